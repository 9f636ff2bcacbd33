#!/usr/bin/python3
"""The classify, generate and translate tasks in PyTorch (Debian's python3-torch, one thread), for bench/tasks.mjs.

The same architecture, optimizer, batch and held-out lines as Recurrent Studio's run, trained for the
same wall-clock: a bidirectional (or not) GRU classifier over one-hot characters, read with
pack_padded_sequence, or a GRU language model started from a learned label state. Batches are random
each epoch, padded to their longest example, as a PyTorch user writes it. Held-out scoring pauses the
clock. Prints one JSON line: {"marks": [{"seconds", "updates", "epochs", "accuracy" | "bitsPerChar"}], "blas"}.

usage: torch_tasks.py SPEC.json   (written by bench/tasks.mjs: task, train/heldOut [text, label] pairs,
       vocab, labels, hidden, bidirectional, optimizer, lr, weightDecay, batch, clip, marks, seed)
"""
import json
import math
import os
import random
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
spec = json.load(open(sys.argv[1]))
task = spec["task"]
vocab = spec["vocab"]
index = {c: i for i, c in enumerate(vocab)}
labels = spec["labels"]
V, K, H = len(vocab), len(labels), spec["hidden"]
END = index.get("\n", 0)
if task == "translate":
    target_vocab = spec["targetVocab"]
    target_index = {c: i for i, c in enumerate(target_vocab)}
    W = len(target_vocab)
    END = target_index["\n"]
    target_symbols = spec["targetKind"] == "symbol"
torch.manual_seed(spec["seed"])
random.seed(spec["seed"])


def encode(pairs):
    out = []
    if task == "translate":
        for source, target in pairs:
            pieces = target.split() if target_symbols else list(target)
            ids = [index[c] for c in source if c in index]
            # The reference keeps tokens the vocabulary lacks as -1, which no output matches.
            ref = [target_index.get(p, -1) for p in pieces]
            out.append((ids, [t for t in ref if t >= 0] + [END], ref))
        return out
    for text, label in pairs:
        ids = [index[c] for c in text if c in index]
        if task == "generate":
            ids.append(END)
        out.append((ids, labels.index(label)))
    return out


train = encode(spec["train"])
held = encode(spec["heldOut"])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(V, H, 1, batch_first=True, bidirectional=spec["bidirectional"])
        self.classifier = nn.Linear(H * (2 if spec["bidirectional"] else 1), K)

    def forward(self, tokens, lengths):
        x = nn.functional.one_hot(tokens, V).float()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        feats = torch.cat([h[-2], h[-1]], 1) if spec["bidirectional"] else h[-1]
        return self.classifier(feats)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(V, H, 1, batch_first=True)
        self.decoder = nn.Linear(H, V)
        self.label_embedding = nn.Embedding(K, H)

    def forward(self, tokens, label_ids):
        x = nn.functional.one_hot(tokens, V).float()
        out, _ = self.rnn(x, self.label_embedding(label_ids).unsqueeze(0))
        return self.decoder(out)


class Translator(nn.Module):
    def __init__(self):
        super().__init__()
        self.D = 2 if spec["bidirectional"] else 1
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[spec["cell"]]
        self.encoder_rnn = rnn(V, H, 1, batch_first=True, bidirectional=spec["bidirectional"])
        self.decoder_rnn = rnn(W, H * self.D, 1, batch_first=True)
        self.out = nn.Linear(H * self.D, W)

    def bridge(self, h):  # [D, B, H] -> [1, B, D * H]
        return torch.cat([h[d] for d in range(self.D)], 1).unsqueeze(0)

    def encode(self, sources, lengths):
        x = nn.functional.one_hot(sources, V).float()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, state = self.encoder_rnn(packed)
        return tuple(self.bridge(s) for s in state) if isinstance(state, tuple) else self.bridge(state)

    def forward(self, sources, lengths, inputs):
        out, _ = self.decoder_rnn(nn.functional.one_hot(inputs, W).float(), self.encode(sources, lengths))
        return self.out(out)

    def greedy(self, sources, lengths, limit):
        state = self.encode(sources, lengths)
        B = sources.shape[0]
        token = torch.full((B, 1), END, dtype=torch.long)
        outs = [[] for _ in range(B)]
        done = [False] * B
        for _ in range(limit):
            o, state = self.decoder_rnn(nn.functional.one_hot(token, W).float(), state)
            token = self.out(o).argmax(2)
            for r in range(B):
                y = token[r, 0].item()
                if not done[r]:
                    if y == END:
                        done[r] = True
                    else:
                        outs[r].append(y)
            if all(done):
                break
        return outs


model = Classifier() if task == "classify" else Generator() if task == "generate" else Translator()
Opt = torch.optim.AdamW if spec["optimizer"] == "adamw" else torch.optim.Adam
opt = Opt(model.parameters(), lr=spec["lr"], weight_decay=spec["weightDecay"])


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if a[i - 1] == b[j - 1] else 1))
        prev = cur
    return prev[len(b)]


def translate_loss(examples, reduction):
    S = max(max(1, len(s)) for s, _, _ in examples)
    T = max(len(t) for _, t, _ in examples)
    sources = torch.tensor([s + [0] * (S - len(s)) for s, _, _ in examples])
    lengths = torch.tensor([max(1, len(s)) for s, _, _ in examples])
    inputs = torch.tensor([[END] + t[:-1] + [0] * (T - len(t)) for _, t, _ in examples])
    gold = torch.tensor([t + [-100] * (T - len(t)) for _, t, _ in examples])
    logits = model(sources, lengths, inputs)
    return nn.functional.cross_entropy(logits.reshape(-1, W), gold.reshape(-1), ignore_index=-100, reduction=reduction), logits


def translate_score():
    model.eval()
    wrong, edits, length, total, units = 0, 0, 0, 0.0, 0
    with torch.no_grad():
        for s in range(0, len(held), 256):
            chunk = held[s : s + 256]
            loss, _ = translate_loss(chunk, "sum")
            total += loss.item()
            units += sum(len(t) for _, t, _ in chunk)
            S = max(max(1, len(x)) for x, _, _ in chunk)
            sources = torch.tensor([x + [0] * (S - len(x)) for x, _, _ in chunk])
            lengths = torch.tensor([max(1, len(x)) for x, _, _ in chunk])
            for out, (_, _, ref) in zip(model.greedy(sources, lengths, spec["maxOutput"]), chunk):
                d = edit_distance(out, ref)
                wrong += d > 0
                edits += d
                length += len(ref)
    model.train()
    return {"wordErrorRate": wrong / len(held), "tokenErrorRate": edits / length, "bitsPerToken": total / units / math.log(2)}


def batch_tensors(examples):
    T = max(len(ids) for ids, _ in examples)
    if task == "classify":
        tokens = torch.tensor([ids + [0] * (T - len(ids)) for ids, _ in examples])
        lengths = torch.tensor([max(1, len(ids)) for ids, _ in examples])
        return tokens, lengths, torch.tensor([l for _, l in examples])
    inputs = torch.tensor([[END] + ids[:-1] + [0] * (T - len(ids)) for ids, _ in examples])
    targets = torch.tensor([ids + [-100] * (T - len(ids)) for ids, _ in examples])
    return inputs, targets, torch.tensor([l for _, l in examples])


def loss_of(examples, reduction):
    if task == "translate":
        return translate_loss(examples, reduction)
    a, b, lab = batch_tensors(examples)
    if task == "classify":
        logits = model(a, b)
        return nn.functional.cross_entropy(logits, lab, reduction=reduction), logits
    logits = model(a, lab)
    return nn.functional.cross_entropy(logits.reshape(-1, V), b.reshape(-1), ignore_index=-100, reduction=reduction), logits


def score():
    if task == "translate":
        return translate_score()
    model.eval()
    with torch.no_grad():
        total, right, units = 0.0, 0, 0
        for s in range(0, len(held), 256):
            chunk = held[s : s + 256]
            loss, logits = loss_of(chunk, "sum")
            total += loss.item()
            if task == "classify":
                right += (logits.argmax(1) == torch.tensor([l for _, l in chunk])).sum().item()
                units += len(chunk)
            else:
                units += sum(len(ids) for ids, _ in chunk)
    model.train()
    if task == "classify":
        return {"accuracy": right / units, "loss": total / units}
    return {"bitsPerChar": total / units / math.log(2)}


marks = sorted(spec["marks"])
# --clock cpu counts the training steps' CPU time: on a shared machine, what their wall time would be on an idle core.
clock_now = time.process_time if spec.get("clock") == "cpu" else time.perf_counter
# A schedule that decays over the run decays over its last mark, as Recurrent Studio's does over --time.
min_lr = spec["lr"] * spec.get("minLrRatio", 0.1)


def learning_rate(spent):
    if spec.get("schedule", "constant") != "cosine":
        return spec["lr"]
    progress = min(1.0, spent / marks[-1])
    return min_lr + (spec["lr"] - min_lr) * (1 + math.cos(math.pi * progress)) / 2


results = []
clock = 0.0
cpu = 0.0
updates = 0
epochs = 0
B = spec["batch"]
while marks:
    order = list(range(len(train)))
    random.shuffle(order)
    epochs += 1
    for s in range(0, len(order), B):
        started = clock_now()
        cpu_started = time.process_time()
        for group in opt.param_groups:
            group["lr"] = learning_rate(clock)
        loss, _ = loss_of([train[i] for i in order[s : s + B]], "mean")
        opt.zero_grad()
        loss.backward()
        if spec["clip"] > 0:
            nn.utils.clip_grad_norm_(model.parameters(), spec["clip"])
        opt.step()
        updates += 1
        clock += clock_now() - started
        cpu += time.process_time() - cpu_started
        if clock >= marks[0]:
            results.append({"seconds": marks.pop(0), "updates": updates, "epochs": epochs, "cpuSeconds": round(cpu, 1), **score()})
            load = " ".join(open("/proc/loadavg").read().split()[:3])
            print(f"{task} seed {spec['seed']} pytorch (load {load}): {json.dumps(results[-1])}", file=sys.stderr, flush=True)
            if not marks:
                break


def blas_library():
    """The BLAS this process loaded (Debian's python3-torch takes whichever libblas.so.3 the system provides)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted({os.path.realpath(p) for p in paths})) or "unknown"


print(json.dumps({"marks": results, "blas": blas_library()}))
