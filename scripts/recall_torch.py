#!/usr/bin/python3
"""Experiment 1 (memory across a gap) in PyTorch 1.13, independently of the engine, to check its figures.

The same data generator (src/engine/experiments/recallData.ts: the engine's sfc32 seeded by splitmix32,
ported below, so every line is the same), the same sizes (hidden sizes, batch, updates, Adam, learning
rate, clipping by global norm at 5) and the same reading of the text: each update reads one whole line
per stream from a zero state, stream b reading line (b * perStream + u) mod (batch * perStream) at update
u, as the engine's streams do on the recall corpus, and each cell learns the gaps as a curriculum (its weights
carried from one gap to the next, a fresh Adam at each), as memoryGap.ts runs it; the loss is the mean cross-entropy over every
position of the batch. What differs is everything PyTorch brings: its initial weights (torch.manual_seed),
kernels and float arithmetic. Recall is measured on the same held-out lines: the most likely token after
the mark against the line's key, and the share of the recall loss's gradient that reaches the key.

usage: /usr/bin/python3 scripts/recall_torch.py [--gaps 5,10,20,50,100] [--seeds 1,2,3] [--cells rnn,gru,lstm]
                                                [--steps 3000] [--threads 1] [--quick]
Prints one JSON object per run as it finishes ({"cell", "gap", "seed", "accuracy", "keyShare", "seconds"}),
and a table of the medians over seeds at the end.
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn

KEYS = "ABCDEFGH"
DISTRACTORS = "abcdefghijklmnopqrstuvwxyz"
MARK = "="
CELLS = {"rnn": 136, "gru": 76, "lstm": 64}  # the engine's MEMORY_CELLS (memoryGap.ts)
FULL = dict(gaps=[5, 10, 20, 50, 100], steps=2000, batch=32, per_stream=32, held_out=256, lr=3e-3)
QUICK = dict(gaps=[2, 4], steps=40, batch=8, per_stream=8, held_out=32, lr=1e-2)
QUICK_CELLS = {"rnn": 24, "gru": 14, "lstm": 12}
M32 = 0xFFFFFFFF


class Rng:
    """src/engine/rng.ts: sfc32 seeded by splitmix32, twelve draws discarded."""

    def __init__(self, seed):
        s = seed & M32

        def splitmix():
            nonlocal s
            s = (s + 0x9E3779B9) & M32
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            return (z ^ (z >> 16)) & M32

        self.a, self.b, self.c, self.d = splitmix(), splitmix(), splitmix(), splitmix()
        for _ in range(12):
            self.next_uint32()

    def next_uint32(self):
        t = (((self.a + self.b) & M32) + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + ((self.c << 3) & M32)) & M32
        self.c = ((self.c << 21) & M32) | (self.c >> 11)
        self.c = (self.c + t) & M32
        return t

    def int(self, n):
        return int((self.next_uint32() / 4294967296.0) * n)


def recall_lines(gap, count, seed):
    rng = Rng(seed)
    lines = []
    for _ in range(count):
        key = KEYS[rng.int(len(KEYS))]
        phase = rng.int(len(DISTRACTORS))
        body = "".join(DISTRACTORS[(phase + j) % len(DISTRACTORS)] for j in range(gap))
        lines.append(key + body + MARK + key + "\n")
    return lines


def recall_corpus(gap, batch, per_stream, held_out, seed):
    train = recall_lines(gap, batch * per_stream + 1, seed)
    held = recall_lines(gap, held_out, (seed + 0x9E3779B9) & M32)
    return train, held


class Model(nn.Module):
    """docs/checkpoint-format.md's module with one-hot input."""

    def __init__(self, V, H, cell):
        super().__init__()
        self.V = V
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](V, H, 1, batch_first=True)
        self.decoder = nn.Linear(H, V)

    def forward(self, tokens):
        x = nn.functional.one_hot(tokens, self.V).float()
        out, _ = self.rnn(x)
        return out, self.decoder(out)


def measure(model, held, index, gap):
    """Accuracy of the recall after the mark, and ||dL_r/dh_key|| / ||dL_r/dh_r|| over the lines."""
    r = gap + 1
    ids = torch.tensor([[index[ch] for ch in line[: r + 1]] for line in held])
    keys = ids[:, 0]
    x = nn.functional.one_hot(ids, model.V).float()
    # Step by step, so that each step's hidden state is a tensor the next step reads and its gradient
    # dL_r/dh_t includes everything that comes back through the later steps.
    state, hs = None, []
    for t in range(r + 1):
        _, state = model.rnn(x[:, t : t + 1], state)
        h = state[0] if isinstance(state, tuple) else state
        h.retain_grad()
        hs.append(h)
    logits = model.decoder(hs[r][0])
    accuracy = (logits.argmax(-1) == keys).float().mean().item()
    loss = nn.functional.cross_entropy(logits, keys, reduction="sum")
    loss.backward()
    at_mark = hs[r].grad.norm()
    share = (hs[0].grad.norm() / at_mark).item() if at_mark > 0 else 0.0
    model.zero_grad()
    return accuracy, share


def run(cell, hidden, gap, seed, size, model=None):
    """`steps` updates at one gap; `model` is the cell's model from the previous gap of its curriculum."""
    train, held = recall_corpus(gap, size["batch"], size["per_stream"], size["held_out"], seed)
    vocab = sorted(set("".join(train + held)), key=ord)
    index = {ch: i for i, ch in enumerate(vocab)}
    if model is not None and model.V != len(vocab):
        raise SystemExit(f"gap {gap} has {len(vocab)} symbols where the previous gap had {model.V}")
    lines = torch.tensor([[index[ch] for ch in line] for line in train[:-1]])  # [B*J, L]
    # A window's targets run into the next line's key: the engine reads the token after each window.
    nxt = torch.tensor([index[line[0]] for line in train[1:]])
    if model is None:
        model = Model(len(vocab), hidden, cell)
    # A fresh optimizer at every gap, as the engine's curriculum starts a new trainer from the weights alone.
    opt = torch.optim.Adam(model.parameters(), lr=size["lr"])
    B, J = size["batch"], size["per_stream"]
    started = time.time()
    for u in range(size["steps"]):
        rows = torch.tensor([(b * J + u) % (B * J) for b in range(B)])
        inputs = lines[rows]
        targets = torch.cat([inputs[:, 1:], nxt[rows].unsqueeze(1)], dim=1)
        _, logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    accuracy, share = measure(model, held, index, gap)
    return {"cell": cell, "hidden": hidden, "gap": gap, "seed": seed, "updates": size["steps"], "accuracy": accuracy,
            "keyShare": share, "seconds": round(time.time() - started, 1)}, model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gaps")
    p.add_argument("--seeds", default="1")
    p.add_argument("--cells", default="rnn,gru,lstm")
    p.add_argument("--steps", type=int)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    size = dict(QUICK if a.quick else FULL)
    cells = QUICK_CELLS if a.quick else CELLS
    if a.gaps:
        size["gaps"] = [int(g) for g in a.gaps.split(",")]
    if a.steps:
        size["steps"] = a.steps
    seeds = [int(s) for s in a.seeds.split(",")]
    results = []
    torch.set_num_threads(a.threads)
    # Each cell's curriculum, as memoryGap.ts runs it: the gaps in order, each starting from the weights the
    # cell ended the previous gap with, the first from torch.manual_seed(seed).
    for seed in seeds:
        for cell in a.cells.split(","):
            torch.manual_seed(seed)
            model = None
            for gap in size["gaps"]:
                r, model = run(cell, cells[cell], gap, seed, size, model)
                results.append(r)
                print(json.dumps(r), flush=True)
    print("median accuracy over seeds " + ", ".join(str(s) for s in seeds), file=sys.stderr)
    for cell in a.cells.split(","):
        row = []
        for gap in size["gaps"]:
            acc = [r["accuracy"] for r in results if r["cell"] == cell and r["gap"] == gap]
            row.append(f"gap {gap}: {statistics.median(acc):.2f}")
        print(f"{cell} {cells[cell]}: " + "  ".join(row), file=sys.stderr)


if __name__ == "__main__":
    main()
