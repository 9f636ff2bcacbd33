// The train.py of Export for PyTorch (pytorchProject.ts): it continues a run of our engine in PyTorch, one
// process or many under torchrun, and must train as trainer.ts does (test/unit/pytorchTraining.test.ts
// holds it to the engine update by update). The constants both sides must share come from the engine's
// own modules; the rest of the program is Python, kept here as text (no backtick and no dollar-brace in it).
import { READABLE_FORMATS } from '../engine/checkpoint.js';
import { DEFAULT_TRAIN } from '../engine/config.js';
import { HISTORY_POINTS, HISTORY_VERSION } from '../engine/history.js';
import { VALIDATION_SAMPLE_TOKENS, VALIDATION_SPACING, VALIDATION_STREAMS, VALIDATION_WINDOW } from '../engine/validation.js';
import { TASK_RUNS_PY, taskConstants } from './trainPyTasks.js';

function engineConstants(): string {
  return JSON.stringify({
    formats: READABLE_FORMATS,
    historyVersion: HISTORY_VERSION,
    historyPoints: HISTORY_POINTS,
    validationSampleTokens: VALIDATION_SAMPLE_TOKENS,
    validationStreams: VALIDATION_STREAMS,
    validationWindow: VALIDATION_WINDOW,
    validationSpacing: VALIDATION_SPACING,
    defaultTrain: DEFAULT_TRAIN,
    ...taskConstants(),
  });
}

export function trainPy(): string {
  return String.raw`#!/usr/bin/env python3
"""Continues a Recurrent Studio run in PyTorch, on one process or many (torchrun), CPU or CUDA.

    python train.py TEXT [--steps N | --time D] [--out CHECKPOINT] [--device cpu|cuda]
    torchrun --nproc_per_node=N train.py TEXT ...

It reads model.safetensors beside it (or --from), the checkpoint Recurrent Studio exported, and goes on
with the same run: the same text through the same tokenizer, the same streams at the same positions
with the same carried state, the same optimizer with its state, the same learning-rate schedule,
clipping, state restarts and seed, as Recurrent Studio's engine trains. It writes a checkpoint in the
same format (by default over the one it read, so running it again goes on from there), which
"recurrent train TEXT --resume", Sample and Load Checkpoint read, and appends every update's metrics to
metrics.jsonl beside it. README.md beside this file has the commands.

Written by Recurrent Studio's Export for PyTorch; needs torch (and numpy, which comes with it).
"""
import argparse
import contextlib
import json
import math
import os
import re
import signal
import struct
import sys
import time
import unicodedata
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import Classifier, Generator, Model, Translator, read_safetensors  # noqa: E402  (model.py, beside this file)

# What Recurrent Studio's engine fixes, written here by the exporter so that both sides agree.
ENGINE = json.loads(r"""${engineConstants()}""")


class Refused(Exception):
    """Bad input: one line on stderr and a non-zero exit, never a traceback."""


# ---- the run's settings and record ------------------------------------------------------------------


def duration(s):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", s)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"must be a duration such as 30, 90s, 5m or 1h, got {s!r}")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]


def positive_int(s):
    if not re.fullmatch(r"\s*\+?\d+\s*", s) or int(s) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {s!r}")
    return int(s)


def learning_rate_at(c, update):
    """schedule.ts: a linear warm-up, then constant, step or cosine; the update counts from 0."""
    lr, warm = c["lr"], c["warmupSteps"]
    if update < warm:
        return lr * (update + 1) / warm
    s = update - warm
    if c["schedule"] == "step":
        return lr * c["stepGamma"] ** math.floor(s / c["stepSize"])
    if c["schedule"] == "cosine":
        span = max(1, c["totalSteps"] - warm)
        low = lr * c["minLrRatio"]
        return low + (lr - low) * (1 + math.cos(math.pi * min(s, span) / span)) / 2
    return lr


def make_optimizer(c, params):
    """optimizer.ts: torch.optim with the engine's settings (RMSProp's alpha is beta2, without momentum)."""
    kind, lr, wd = c["optimizer"], c["lr"], c["weightDecay"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=c["momentum"], weight_decay=wd), ["momentum_buffer"] if c["momentum"] > 0 else []
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=c["eps"], weight_decay=wd), ["sum"]
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=c["beta2"], eps=c["eps"], weight_decay=wd), ["square_avg"]
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=lr, betas=(c["beta1"], c["beta2"]), eps=c["eps"], weight_decay=wd), ["exp_avg", "exp_avg_sq"]
    raise Refused(f"the checkpoint's optimizer {kind!r} is unknown to this train.py")


# ---- text and tokens (tokenizer.ts) ------------------------------------------------------------------


def read_text(path):
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise Refused(f"cannot read {path}: {e.strerror}")
    if not data:
        raise Refused(f"{path} is empty: there is nothing to learn from")
    if b"\0" in data:
        raise Refused(f"{path} looks binary (it contains NUL bytes); train on a text file")
    try:
        return data.decode("utf-8-sig")  # as the engine reads it: a byte-order mark is dropped, line ends kept
    except UnicodeDecodeError:
        raise Refused(f"{path} is not valid UTF-8 text; convert it to UTF-8 first")


def describe_symbol(ch):
    return f"{json.dumps(ch)} (U+{ord(ch):04X})"


def encode_chars(text, vocab):
    """One token per code point; a character outside the vocabulary is refused, as the engine does."""
    points = torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32).long()
    known = torch.tensor([ord(t) for t in vocab], dtype=torch.long)
    order = torch.argsort(known)
    sorted_known = known[order]
    at = torch.searchsorted(sorted_known, points).clamp_(max=len(vocab) - 1)
    missing = (sorted_known[at] != points).nonzero()
    if len(missing):
        i = int(missing[0])
        raise Refused(
            f"the character {describe_symbol(text[i])} at character {i} is not in the model's vocabulary "
            "(it never occurred in the training text): remove it or train on a text that contains it"
        )
    return order[at].to(torch.int32)


def word_pattern():
    """tokenizer.ts's splitter, /[\\p{L}\\p{M}]+(?:['\u2019][\\p{L}\\p{M}]+)*|\\p{N}+|\\s+|[^\\p{L}\\p{M}\\p{N}\\s]/u,
    with classes built from Python's Unicode tables (Python's re has no \\p{...})."""
    js_space = set("\t\n\v\f\r\u2028\u2029\ufeff")
    classes = {"L": [], "N": [], "S": []}
    for cp in range(0x110000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        kind = "L" if cat[0] in "LM" else "N" if cat[0] == "N" else "S" if cat == "Zs" or ch in js_space else None
        if kind:
            ranges = classes[kind]
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    cls = {k: "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in v) for k, v in classes.items()}
    return re.compile(f"[{cls['L']}]+(?:['\u2019][{cls['L']}]+)*|[{cls['N']}]+|[{cls['S']}]+|[^{cls['L']}{cls['N']}{cls['S']}]")


def encode(text, spec):
    vocab = spec["vocab"]
    if spec["kind"] == "char":
        return encode_chars(text, vocab)
    ids = {t: i for i, t in enumerate(vocab)}
    unknown = ids[spec.get("unknown", "<unk>")]
    return torch.tensor([ids.get(w, unknown) for w in word_pattern().findall(text)], dtype=torch.int32)


def hash_tokens(tokens):
    """trainer.ts's FNV-1a over the ids (low then high 16 bits): tells whether the text is the run's."""
    h = 0x811C9DC5
    for x in tokens.tolist():
        h = ((h ^ (x & 0xFFFF)) * 0x01000193) & 0xFFFFFFFF
        h = ((h ^ (x >> 16)) * 0x01000193) & 0xFFFFFFFF
    return h


# ---- the run's history (history.ts): one curve, wherever the run trained ----------------------------


class History:
    COLUMNS = ["step", "tokens", "lossNats", "lr", "gradNorm", "clipped", "elapsedMs", "tokensPerSecond"]
    VALIDATION = ["step", "lossNats", "tokens"]

    def __init__(self, raw):
        h = json.loads(raw) if raw else {}
        ok = isinstance(h, dict) and h.get("version") == ENGINE["historyVersion"]
        self.stride = int(h["stride"]) if ok else 1
        m = h.get("metrics", {}) if ok else {}
        v = h.get("validation", {}) if ok else {}
        self.rows = [list(r) for r in zip(*(m.get(c, []) for c in self.COLUMNS))]
        self.validation = [list(r) for r in zip(*(v.get(c, []) for c in self.VALIDATION))]
        self.segments = list(h.get("segments", [])) if ok else []

    def begin(self, segment, update):
        """A stretch of training here: the last segment goes on if it is this kind and ends here."""
        last = self.segments[-1] if self.segments else None
        if last and last.get("to") == update and {k: v for k, v in last.items() if k not in ("from", "to")} == segment:
            self.current = last
        else:
            self.current = dict(segment, **{"from": update, "to": update})
            self.segments.append(self.current)

    def record(self, m):
        if m["step"] % self.stride:
            return
        self.rows.append([int(m[c]) if c == "clipped" else m[c] for c in self.COLUMNS])
        if len(self.rows) >= ENGINE["historyPoints"]:
            self.stride *= 2
            self.rows = [r for r in self.rows if r[0] % self.stride == 0]

    def record_validation(self, v):
        if self.validation and self.validation[-1][0] == v["step"]:
            self.validation.pop()
        self.validation.append([v[c] for c in self.VALIDATION])
        if len(self.validation) >= ENGINE["historyPoints"]:
            self.validation = self.validation[1::2]

    def json(self, update):
        self.current["to"] = update
        columns = lambda rows, names: {c: [r[i] for r in rows] for i, c in enumerate(names)}  # noqa: E731
        return json.dumps(
            {
                "version": ENGINE["historyVersion"],
                "stride": self.stride,
                "segments": self.segments,
                "metrics": columns(self.rows, self.COLUMNS),
                "validation": columns(self.validation, self.VALIDATION),
            },
            separators=(",", ":"),
        )


# ---- streams (streams.ts) ----------------------------------------------------------------------------


class Streams:
    """B streams over the training tokens; a window of k2 tokens each per update, then k1 tokens on."""

    def __init__(self, length, batch, k1, k2, reset_every):
        self.batch, self.k1, self.k2 = batch, k1, k2
        self.starts = length - k2
        self.reset_windows = max(1, math.floor(reset_every / k1 + 0.5)) if reset_every > 0 else 0
        self.positions = [math.floor(b * self.starts / batch) for b in range(batch)]

    def fresh_starts(self, update):
        """Wraps streams past the text; True where a stream starts this window from a zero state."""
        R, fresh = self.reset_windows, []
        for b, p in enumerate(self.positions):
            wrapped = p >= self.starts
            if wrapped:
                self.positions[b] = p % self.starts
            fresh.append(wrapped or (R > 0 and update > 0 and (update + math.floor(b * R / self.batch)) % R == 0))
        return fresh

    def advance(self):
        self.positions = [p + self.k1 for p in self.positions]

    def restore(self, positions):
        for b in range(self.batch):
            p = positions[b] if b < len(positions) else 0
            self.positions[b] = p if isinstance(p, int) and p >= 0 else 0


class Window(nn.Module):
    """One TBPTT window: k2 steps from the carried state, logits of the last k1, the state after step k1."""

    def __init__(self, lm, k1):
        super().__init__()
        self.lm, self.k1 = lm, k1

    def forward(self, ids, state):
        lm, k1, T = self.lm, self.k1, ids.shape[1]
        x = lm.embedding(ids) if hasattr(lm, "embedding") else F.one_hot(ids, lm.V).float()
        out, carried = lm.rnn(x[:, :k1], state)
        if T > k1:
            rest, _ = lm.rnn(x[:, k1:], carried)
            out = torch.cat([out, rest], 1)
        return lm.decoder(out[:, T - k1 :]), carried


# ---- checkpoints (docs/checkpoint-format.md) ---------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    """8 bytes of header length, the JSON header (padded to 8 bytes), F32 data; written beside and renamed."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors:
        data = t.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


# ---- the language model's training run (trainer.ts) --------------------------------------------------


def read_checkpoint(path):
    """The tensors, the metadata and its three required keys, or one line saying what is wrong."""
    try:
        tensors, meta = read_safetensors(path)
    except FileNotFoundError:
        raise Refused(f"no checkpoint at {path}")
    except (OSError, ValueError, KeyError, struct.error) as e:
        raise Refused(f"{path}: not a readable .safetensors checkpoint ({e})")
    if meta.get("recurrent.format") not in ENGINE["formats"]:
        raise Refused(f"{path}: checkpoint format {meta.get('recurrent.format')!r}; this train.py reads formats {', '.join(ENGINE['formats'])}")
    try:
        return path, tensors, meta, json.loads(meta["recurrent.config"]), json.loads(meta["recurrent.tokenizer"]), json.loads(meta.get("recurrent.training", "{}"))
    except (KeyError, ValueError) as e:
        raise Refused(f"{path}: the metadata lacks {e} or it is not valid JSON: not a Recurrent Studio checkpoint")


def load_optimizer(optimizer, names, slots, tensors, updates, kind):
    """The engine's optimizer.<param>.<slot> tensors as torch.optim's own state (PyTorch's layout)."""
    state = {}
    for i, name in enumerate(names):
        entry = {}
        for slot in slots:
            t = tensors.get(f"optimizer.{name}.{slot}")
            if t is None:
                raise Refused(f"the checkpoint has no optimizer state optimizer.{name}.{slot}: it was saved with another optimizer")
            entry[slot] = t.clone()
        if kind != "sgd":
            entry["step"] = torch.tensor(float(updates))
        if entry:
            state[i] = entry
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def optimizer_tensors(optimizer, module, names, slots):
    """torch.optim's state as the engine's optimizer.<param>.<slot> tensors."""
    params, out = dict(module.named_parameters()), []
    for name in names:
        st = optimizer.state.get(params[name], {})
        for slot in slots:
            out.append((f"optimizer.{name}.{slot}", st.get(slot, torch.zeros_like(params[name]))))
    return out


class LanguageModelRun:
    """Everything of trainer.ts that a language model's update needs, with this process's share of the streams.

    A task's run (see RUNS) offers: net (the module DDP wraps), forward(net, autocast) -> (summed loss
    of this process's tokens, what commit() needs), after which count holds the units whose mean loss the
    update takes (all processes') and correct this process's right predictions; commit(after) -> tokens
    read; step_metrics(m, correct, run_ms), validate(scope), sampled, validation_due(), summary(validation), unit,
    describe(text), full_state(reduce) and checkpoint(path, state).
    """

    def __init__(self, ck, text_path, rank, world, device):
        ck_path, tensors, meta, config, self.spec, record = ck
        self.meta, self.rank, self.world, self.device = meta, rank, world, device
        self.record = record
        c = self.train = {**ENGINE["defaultTrain"], **record.get("train", {})}
        V = len(self.spec["vocab"])
        lm = Model(V, config.get("embedding", 0), config["hidden"], config["layers"], config["cell"], config.get("bidirectional", False))
        missing = [name for name in lm.state_dict() if name not in tensors]
        if missing:
            raise Refused(f"{ck_path}: tensor {missing[0]} is missing (the config needs it)")
        lm.load_state_dict({name: tensors[name] for name in lm.state_dict()})
        self.lm = lm.to(device)
        if device.type == "cuda":
            self.lm.rnn.flatten_parameters()
        self.names = [n for n, _ in self.lm.named_parameters()]
        self.cell, self.layers, self.hidden = config["cell"], config["layers"], config["hidden"]

        text = read_text(text_path)
        self.text_chars = len(text)
        self.tokens = encode(text, self.spec)
        N = len(self.tokens)
        self.val_tokens = math.floor(N * c["valShare"])
        self.train_tokens = N - self.val_tokens
        if self.train_tokens < c["k2"] + 1:
            raise Refused(f"the text has {self.train_tokens} training tokens, too few for one window of k2 = {c['k2']} tokens and its targets")
        B = c["batch"]
        if B < world:
            raise Refused(f"the run has {B} streams (batch), fewer than the {world} processes: each process needs a stream")
        self.lo, self.hi = B * rank // world, B * (rank + 1) // world
        self.streams = Streams(self.train_tokens, B, c["k1"], c["k2"], c["resetEvery"])
        self.text_hash = hash_tokens(self.tokens)
        self.updates = record.get("updates", 0)
        self.tokens_seen = record.get("tokens", 0)
        self.elapsed_ms = record.get("elapsedMs", 0)
        self.tokens_at_validation = self.tokens_seen
        self.same_text = record.get("textTokens") == N and record.get("textHash") == self.text_hash and isinstance(record.get("positions"), list)
        L, H = self.layers, self.hidden
        kinds = ["h", "c"] if self.cell == "lstm" else ["h"]
        state = {k: torch.zeros(L, B, H) for k in kinds}
        if self.same_text:
            self.streams.restore(record["positions"])
            for k in kinds:
                for layer in range(L):
                    t = tensors.get(f"state.{k}_l{layer}")
                    if t is None or list(t.shape) != [B, H]:
                        raise Refused(f"{ck_path}: the carried state state.{k}_l{layer} is missing or is not [{B}, {H}]")
                    state[k][layer] = t
        self.kinds = kinds
        self.state = {k: v[:, self.lo : self.hi].contiguous().to(device) for k, v in state.items()}
        self.optimizer, self.slots = make_optimizer(c, self.lm.parameters())
        if "recurrent.training" in meta:
            load_optimizer(self.optimizer, self.names, self.slots, tensors, self.updates, c["optimizer"])
        self.history = History(meta.get("recurrent.history"))
        self.count, self.correct = c["batch"] * c["k1"], 0.0
        self.unit = "char" if self.spec["kind"] == "char" else "token"
        self.sampled = True  # validate("sample") reads a sample of the held-out text, "full" all of it
        self.net = Window(self.lm, c["k1"])

    # -- one update

    def window(self, update):
        """Zeroes the carried state of streams that start afresh; this process's window ids [b, k2 + 1]."""
        fresh = self.streams.fresh_starts(update)[self.lo : self.hi]
        if any(fresh):
            mask = torch.tensor(fresh, device=self.device)
            for s in self.state.values():
                s[:, mask] = 0
        starts = torch.tensor(self.streams.positions[self.lo : self.hi], dtype=torch.long)
        return self.tokens[starts[:, None] + torch.arange(self.train["k2"] + 1)].long().to(self.device, non_blocking=True)

    def forward(self, net, autocast):
        """This process's windows from their carried state: the summed loss of their last k1 positions."""
        k1, k2 = self.train["k1"], self.train["k2"]
        ids = self.window(self.updates)
        state = (self.state["h"], self.state["c"]) if self.cell == "lstm" else self.state["h"]
        with autocast():
            logits, carried = net(ids[:, :k2], state)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), ids[:, k2 - k1 + 1 :].reshape(-1), reduction="sum")
        return loss, carried

    def commit(self, carried):
        """After an update: the state after step k1 carried (cut from the graph), the streams k1 tokens on."""
        for k, s in zip(self.kinds, carried if self.cell == "lstm" else (carried,)):
            self.state[k] = s.detach().float()
        self.streams.advance()
        self.updates += 1
        self.tokens_seen += self.count
        return self.count

    def step_metrics(self, m, correct, run_ms):
        return m

    def summary(self, v):
        return f"{v['bitsPerToken']:.3f} bits/{self.unit}"

    def full_state(self, reduce):
        """Every stream's carried state, [layers, B, H] per kind, gathered from all processes."""
        out = {}
        for k, s in self.state.items():
            full = torch.zeros(self.layers, self.train["batch"], self.hidden, device=self.device)
            full[:, self.lo : self.hi] = s
            out[k] = reduce(full)
        return out

    def checkpoint(self, path, full_state):
        tensors = [(n, p) for n, p in self.lm.state_dict().items()] + optimizer_tensors(self.optimizer, self.lm, self.names, self.slots)
        for layer in range(self.layers):
            for k in self.kinds:
                tensors.append((f"state.{k}_l{layer}", full_state[k][layer]))
        record = {
            "train": self.train,
            "updates": self.updates,
            "tokens": self.tokens_seen,
            "elapsedMs": self.elapsed_ms,
            "positions": self.streams.positions,
            "textTokens": len(self.tokens),
            "textHash": self.text_hash,
        }
        if "rng" in self.record:  # the engine's generator, untouched here (an LM's updates draw nothing)
            record["rng"] = self.record["rng"]
        meta = dict(self.meta)
        meta["recurrent.training"] = json.dumps(record, separators=(",", ":"))
        meta["recurrent.history"] = self.history.json(self.updates)
        write_safetensors(path, tensors, meta)

    # -- validation (trainer.ts validate): rank 0 reads the held-out split from a zero state

    @torch.no_grad()
    def validate(self, scope):
        n = self.val_tokens
        self.tokens_at_validation = self.tokens_seen
        if n < 2:
            return {"step": self.updates, "lossNats": math.nan, "bitsPerToken": math.nan, "tokens": 0}
        S = n if scope == "full" else min(n, ENGINE["validationSampleTokens"])
        nb = max(1, min(ENGINE["validationStreams"], S // 64))
        stride, length, T = n // nb, S // nb, ENGINE["validationWindow"]
        starts = torch.tensor([self.train_tokens + b * stride for b in range(nb)], dtype=torch.long)
        total, state = 0.0, None
        for start in range(0, length - 1, T):
            t = min(T, length - 1 - start)
            w = self.tokens[(starts + start)[:, None] + torch.arange(t + 1)].long().to(self.device)
            logits, state = self.lm(w[:, :t], state)
            total += float(F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum"))
        count = nb * (length - 1)
        return {"step": self.updates, "lossNats": total / count, "bitsPerToken": total / count / math.log(2), "tokens": count}

    def validation_due(self):
        every = self.train["evalEvery"]
        if every == 0 or self.val_tokens < 2 or self.updates == 0 or self.updates % every:
            return False
        sample = min(self.val_tokens, ENGINE["validationSampleTokens"])
        return self.tokens_seen - self.tokens_at_validation >= ENGINE["validationSpacing"] * sample

    def describe(self, text_path):
        c, B, W = self.train, self.train["batch"], self.world
        lines = [
            f"{text_path}: {self.text_chars:,} characters, vocabulary {len(self.spec['vocab'])} {self.spec['kind']} tokens",
            f"model: {self.cell} hidden {self.hidden} x {self.layers} layer(s), "
            f"{'embedding %d' % self.lm.embedding.embedding_dim if hasattr(self.lm, 'embedding') else 'one-hot input'}, "
            f"{sum(p.numel() for p in self.lm.parameters()):,} parameters",
            f"training: batch {B} ({'one process' if W == 1 else f'{B // W} streams in each process' if B % W == 0 else f'{B // W}-{B // W + 1} streams in each process'}), "
            f"k1 {c['k1']}, k2 {c['k2']}",
        ]
        if self.updates and not self.same_text:
            lines.append("this text is not the one the run was trained on (its token count or hash differ): the streams start afresh")
        return lines


${TASK_RUNS_PY}

# The runs of each task a checkpoint's config may name.
RUNS = {"lm": LanguageModelRun, "classify": TaskRun, "generate": TaskRun, "translate": TaskRun}


# ---- the loop ------------------------------------------------------------------------------------------


def clip(params, clip_norm, clip_value):
    """clip.ts: by value, then by global norm as clip_grad_norm_; the norm before clipping and whether it clipped."""
    grads = [p.grad for p in params]
    norm = before = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
    clipped = False
    if not math.isfinite(before):
        return before, False
    if clip_value > 0 and any(bool((g.abs() > clip_value).any()) for g in grads):
        for g in grads:
            g.clamp_(-clip_value, clip_value)
        norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
        clipped = True
    if clip_norm > 0:
        coef = clip_norm / (norm + 1e-6)
        if coef < 1:
            for g in grads:
                g.mul_(coef)
            clipped = True
    return before, clipped


def main(argv):
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(prog="train.py", description="Continue a Recurrent Studio run in PyTorch (see README.md).")
    ap.add_argument("text", metavar="TEXT", help="the text the run trains on")
    stop = ap.add_mutually_exclusive_group()
    stop.add_argument("--steps", type=positive_int, help="stop after N more updates")
    stop.add_argument("--time", type=duration, help="stop after a duration: 30, 90s, 5m, 1h (default: until Ctrl+C)")
    ap.add_argument("--from", dest="source", default=str(here / "model.safetensors"), help="the checkpoint to continue (default: model.safetensors here)")
    ap.add_argument("--out", help="where to save (default: over --from, so the next run goes on from there)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"], default="fp32", help="on cuda: TF32 products, or bf16/fp16 autocast")
    ap.add_argument("--save-every", type=duration, default=600, help="also save this often (default 10m)")
    ap.add_argument("--metrics", help="append metrics here (default: metrics.jsonl beside --out)")
    ap.add_argument("--log-every", type=duration, default=5, help="a progress line this often (default 5s)")
    args = ap.parse_args(argv)
    out = Path(args.out or args.source)
    metrics_path = Path(args.metrics) if args.metrics else out.with_name("metrics.jsonl")

    world, rank, local = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise Refused("--device cuda, but this torch sees no CUDA device (torch.cuda.is_available() is False)")
    if args.precision != "fp32" and not cuda:
        raise Refused(f"--precision {args.precision} is for --device cuda; on the CPU training runs in float32")
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
        # float32 means float32: cuDNN's RNNs would otherwise use TF32 on Ampere and later.
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    lead = rank == 0
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if lead else (lambda s: None)

    ck = read_checkpoint(args.source)
    task = ck[3].get("task", "lm")
    if task not in RUNS:
        raise Refused(f"{args.source}: task {task!r}: this train.py trains {', '.join(RUNS)}")
    run = RUNS[task](ck, args.text, rank, world, device)
    c = run.train
    torch.manual_seed(c["seed"])
    net = run.net
    if world > 1:
        net = nn.parallel.DistributedDataParallel(net, device_ids=[local] if cuda else None)

    def reduce(t):
        if world > 1:
            dist.all_reduce(t)
        return t

    amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    autocast = (lambda: torch.autocast("cuda", dtype=amp)) if amp else contextlib.nullcontext
    scaler = torch.cuda.amp.GradScaler() if args.precision == "fp16" else None
    params = list(run.net.parameters())
    unit = run.unit
    for line in run.describe(args.text):
        say(line)
    say(
        f"{c['optimizer']} lr {c['lr']}, clip {'norm %g' % c['clipNorm'] if c['clipNorm'] else 'value %g' % c['clipValue'] if c['clipValue'] else 'off'}, "
        f"seed {c['seed']}; {world} process{'es' if world > 1 else ''} on {args.device}{'' if args.precision == 'fp32' else ' in ' + args.precision}, torch {torch.__version__}"
    )
    say(f"continuing at update {run.updates:,}" if run.updates else "starting at update 0")
    segment = {"by": "pytorch", "torch": torch.__version__.split("+")[0], "device": args.device, "processes": world, "precision": args.precision}
    nodes = world // int(os.environ.get("LOCAL_WORLD_SIZE", str(world)) or world)
    if nodes > 1:
        segment["nodes"] = nodes
    run.history.begin(segment, run.updates)

    log = open(metrics_path, "a", encoding="utf-8") if lead else None

    def emit(kind, m):
        if log:
            log.write(json.dumps({"type": kind, **m}) + "\n")
            log.flush()

    emit("start", {"update": run.updates, "by": "pytorch", "torch": torch.__version__, "device": args.device, "processes": world, "precision": args.precision})

    def validation(scope):
        v = run.validate(scope) if lead else None
        if v and v["tokens"]:
            run.history.record_validation(v)
            emit("validation", v)
        return v

    def save(path):
        state = run.full_state(reduce)
        if lead:
            run.checkpoint(path, state)

    interrupted = []

    def on_signal(sig, frame):
        if interrupted:  # a second Ctrl+C or SIGTERM: stop now, without saving
            os._exit(128 + sig)
        interrupted.append(sig)  # the first: finish this update, save, stop

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    first = validation("sample")
    if first and first["tokens"]:
        say(f"validation before training: {run.summary(first)}")
    start = last_log = last_save = time.monotonic()
    run_ms, run_tokens, start_updates = 0.0, 0, run.updates
    failure, weights_lost, last_val, loss_nats = None, False, first, math.nan
    flags = torch.zeros(4, dtype=torch.float64, device=device)
    while True:
        if args.steps and run.updates - start_updates >= args.steps:
            break
        began = time.perf_counter()
        now = time.monotonic()
        loss_sum, after = run.forward(net, autocast)
        # One collective carries the loss and the stop and save decisions, so every process acts alike.
        flags[0] = loss_sum.detach()
        flags[1] = 1.0 if interrupted or (lead and args.time and now - start >= args.time) else 0.0
        flags[2] = 1.0 if lead and args.save_every and now - last_save >= args.save_every else 0.0
        flags[3] = run.correct
        reduce(flags)
        total, stop_now, save_now, correct = float(flags[0]), flags[1] > 0, flags[2] > 0, float(flags[3])
        count = run.count
        lr = learning_rate_at(c, run.updates)
        if not math.isfinite(total):
            failure = f"loss became {total} at update {run.updates}; training stopped there (lower the learning rate, or clip)"
            break
        run.optimizer.zero_grad(set_to_none=False)
        # DDP averages the processes' gradients: scaled by the process count, that is the gradient of the
        # mean loss over all B * k1 tokens, as one process computes it.
        scaled = loss_sum * (world / count)
        (scaler.scale(scaled) if scaler else scaled).backward()
        if scaler:
            scaler.unscale_(run.optimizer)
        norm, clipped = clip(params, c["clipNorm"], c["clipValue"])
        if not math.isfinite(norm):
            if scaler:  # fp16 overflowed: a smaller scale, and the same window again
                scaler.update()
                continue
            failure = f"the gradient became {norm} at update {run.updates}; training stopped there (lower the learning rate, or clip)"
            break
        for g in run.optimizer.param_groups:
            g["lr"] = lr
        if scaler:
            scaler.step(run.optimizer)
            scaler.update()
        else:
            run.optimizer.step()
        if not all(bool(torch.isfinite(p).all()) for p in params):
            failure, weights_lost = f"the weights are no longer finite after update {run.updates + 1}", True
            break
        tokens = run.commit(after)
        ms = (time.perf_counter() - began) * 1000
        run.elapsed_ms += ms
        run_ms += ms
        run_tokens += tokens
        loss_nats = total / count
        m = {
            "step": run.updates,
            "tokens": run.tokens_seen,
            "lossNats": loss_nats,
            "bitsPerToken": loss_nats / math.log(2),
            "lr": lr,
            "gradNorm": norm,
            "clipped": clipped,
            "elapsedMs": run.elapsed_ms,
            "tokensPerSecond": run_tokens * 1000 / run_ms,
        }
        m = run.step_metrics(m, correct, run_ms)
        run.history.record(m)
        emit("metrics", m)
        if run.validation_due():
            last_val = validation("sample")
        if lead and time.monotonic() - last_log >= args.log_every:
            last_log = time.monotonic()
            val = f"  val {run.summary(last_val)}" if last_val and last_val["tokens"] else ""
            say(
                f"update {run.updates:,}  loss {loss_nats:.4f}  {m['bitsPerToken']:.3f} bits/{unit}{val}  "
                f"{m['tokensPerSecond'] / 1000:.1f}k {unit}s/s{'  clipped' if clipped else ''}  elapsed {time.monotonic() - start:.0f}s"
            )
        if save_now:
            last_save = time.monotonic()
            save(out)
        if stop_now:
            break

    if failure and weights_lost:
        say(f"train.py: {failure}; nothing was saved, {out} is as it was")
        return 1
    if failure:
        save(out)
        say(f"train.py: {failure}")
        say(f"kept the last good state (update {run.updates:,}) in {out}")
        return 1
    # A task run scores all of its held-out lines every time: one made at this update already is the final one.
    done = last_val and last_val.get("step") == run.updates and not run.sampled
    final = last_val if done else validation("full")
    save(out)
    elapsed = time.monotonic() - start
    say(f"{'interrupted' if interrupted else 'done'}: {run.updates - start_updates:,} updates in {elapsed:.0f}s, {run_tokens / max(elapsed, 1e-9) / 1000:.1f}k {unit}s/s")
    if final and final["tokens"]:
        say(f"training loss {loss_nats / math.log(2):.3f} bits/{unit}; validation {run.summary(first)} -> {run.summary(final)}")
    say(f"saved {out}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except Refused as e:
        print(f"train.py: {e}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is saved and flushed. Leave without tearing the process group down: torch 1.13's gloo
    # group can deadlock in its destructor (its worker thread waits for the lock the exiting thread holds).
    os._exit(code)
`;
}
