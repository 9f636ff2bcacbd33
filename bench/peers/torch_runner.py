"""PyTorch peer: the same workloads with nn.RNN/nn.LSTM/nn.GRU, one-hot input, one thread.

Prints one JSON line like the Node runners. Run by bench/run.mjs with Debian's /usr/bin/python3.
"""
import argparse
import json
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
here = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = json.load(open(os.path.join(here, "..", "workloads.json")))
# bench/run.mjs writes the corpus to a file and names it here.
CORPUS = os.environ.get("RECURRENT_BENCH_CORPUS")
if not CORPUS:
    raise SystemExit("torch_runner.py: RECURRENT_BENCH_CORPUS is not set; run it through npm run bench")


def load_corpus():
    text = open(CORPUS, encoding="utf-8").read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(len(ids) * 0.9)
    return vocab, ids[:cut], ids[cut:]


class Model(nn.Module):
    # The module of docs/checkpoint-format.md with E = 0: one-hot input of size V.
    def __init__(self, V, w):
        super().__init__()
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[w["cell"]]
        self.V = V
        self.rnn = rnn(V, w["hidden"], w["layers"], batch_first=True)
        self.decoder = nn.Linear(w["hidden"], V)

    def forward(self, x, state):
        y, state = self.rnn(F.one_hot(x, self.V).float(), state)
        return self.decoder(y), state


def detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


class Streams:
    """B contiguous slices of the text, read window by window, as the engine's trainer reads them."""

    def __init__(self, ids, B, T):
        self.ids, self.B, self.T = ids, B, T
        self.span = (len(ids) - 1) // B
        self.pos = 0

    def next(self):
        if self.pos + self.T >= self.span:
            self.pos = 0
        starts = torch.arange(self.B) * self.span + self.pos
        idx = starts[:, None] + torch.arange(self.T + 1)[None, :]
        self.pos += self.T
        w = self.ids[idx]
        return w[:, :-1], w[:, 1:], self.pos == self.T


def make(w, V):
    torch.manual_seed(1)
    model = Model(V, w)
    opt = {"adam": lambda p: torch.optim.Adam(p, lr=w["lr"]), "adagrad": lambda p: torch.optim.Adagrad(p, lr=w["lr"])}[w["optimizer"]](model.parameters())
    return model, opt


def validate(model, val, V):
    model.eval()
    B = 32
    span = (len(val) - 1) // B
    x = val[: B * span].view(B, span)
    y = val[1 : B * span + 1].view(B, span)
    total, state = 0.0, None
    with torch.no_grad():
        for s in range(0, span, 256):
            logits, state = model(x[:, s : s + 256], state)
            total += F.cross_entropy(logits.reshape(-1, V), y[:, s : s + 256].reshape(-1), reduction="sum").item()
    model.train()
    return total / (B * span) / math.log(2)


def blas_library():
    """The BLAS this process loaded (Debian's python3-torch takes whichever libblas.so.3 the system provides)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted({os.path.realpath(p) for p in paths})) or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="W2")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--quality", default="", help="comma-separated wall-clock checkpoints in seconds, e.g. 60,300")
    a = ap.parse_args()
    w = WORKLOADS[a.workload]
    vocab, train, val = load_corpus()
    V = len(vocab)
    model, opt = make(w, V)
    streams = Streams(train, w["batch"], w["seq"])
    state = None

    def step():
        nonlocal state
        x, y, restart = streams.next()
        if restart:
            state = None
        logits, state = model(x, detach(state))
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return x.numel()

    if a.quality:
        marks = [float(s) for s in a.quality.split(",")]
        out, trained, tokens = [], 0.0, 0
        for m in marks:
            while trained < m:
                t0 = time.perf_counter()
                tokens += step()
                trained += time.perf_counter() - t0
            out.append({"seconds": m, "bitsPerChar": validate(model, val, V), "tokens": tokens})
        print(json.dumps({"peer": "pytorch", "workload": a.workload, "quality": out, "version": torch.__version__}))
        return

    if w.get("sampling"):
        model.eval()
        g = torch.Generator().manual_seed(1)
        tok = torch.zeros(1, 1, dtype=torch.long)
        sstate = None

        def step():  # noqa: F811
            nonlocal tok, sstate
            with torch.no_grad():
                logits, sstate = model(tok, sstate)
                p = torch.softmax(logits[0, -1], dim=-1)
                tok = torch.multinomial(p, 1, generator=g).view(1, 1)
            return 1

    def timed():
        # Chars per wall-clock second, and per CPU-second of the process (time.process_time, every
        # thread): on a shared machine the wall clock counts other people's work too.
        now, cpu = time.perf_counter, time.process_time
        t0 = now()
        while True:
            step()
            if now() - t0 >= a.warmup:
                break
        rates, cpu_rates = [], []
        for _ in range(a.reps):
            chars, t0, c0 = 0, now(), cpu()
            while True:
                chars += step()
                t = now()
                if t - t0 >= a.seconds:
                    break
            rates.append(chars / (t - t0))
            cpu_rates.append(chars / (cpu() - c0))
        return rates, cpu_rates

    rates, cpu_rates = timed()
    print(json.dumps({"peer": "pytorch", "workload": a.workload, "charsPerSecond": statistics.median(rates), "reps": rates, "charsPerCpuSecond": statistics.median(cpu_rates), "version": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}))


if __name__ == "__main__":
    main()
