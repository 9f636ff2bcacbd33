#!/usr/bin/python3
"""The classify and generate tasks in PyTorch (Debian's python3-torch, one thread), for bench/tasks.mjs.

The same architecture, optimizer, batch and held-out lines as Recurrent Studio's run, trained for the
same wall-clock: a bidirectional (or not) GRU classifier over one-hot characters, read with
pack_padded_sequence, or a GRU language model started from a learned label state. Batches are random
each epoch, padded to their longest example, as a PyTorch user writes it. Held-out scoring pauses the
clock. Prints one JSON line: {"marks": [{"seconds", "updates", "epochs", "accuracy" | "bitsPerChar"}]}.

usage: torch_tasks.py SPEC.json   (written by bench/tasks.mjs: task, train/heldOut [text, label] pairs,
       vocab, labels, hidden, bidirectional, optimizer, lr, weightDecay, batch, clip, marks, seed)
"""
import json
import math
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
torch.manual_seed(spec["seed"])
random.seed(spec["seed"])


def encode(pairs):
    out = []
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


model = Classifier() if task == "classify" else Generator()
Opt = torch.optim.AdamW if spec["optimizer"] == "adamw" else torch.optim.Adam
opt = Opt(model.parameters(), lr=spec["lr"], weight_decay=spec["weightDecay"])


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
    a, b, lab = batch_tensors(examples)
    if task == "classify":
        logits = model(a, b)
        return nn.functional.cross_entropy(logits, lab, reduction=reduction), logits
    logits = model(a, lab)
    return nn.functional.cross_entropy(logits.reshape(-1, V), b.reshape(-1), ignore_index=-100, reduction=reduction), logits


def score():
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
results = []
clock = 0.0
updates = 0
epochs = 0
B = spec["batch"]
while marks:
    order = list(range(len(train)))
    random.shuffle(order)
    epochs += 1
    for s in range(0, len(order), B):
        started = time.perf_counter()
        loss, _ = loss_of([train[i] for i in order[s : s + B]], "mean")
        opt.zero_grad()
        loss.backward()
        if spec["clip"] > 0:
            nn.utils.clip_grad_norm_(model.parameters(), spec["clip"])
        opt.step()
        updates += 1
        clock += time.perf_counter() - started
        if clock >= marks[0]:
            results.append({"seconds": marks.pop(0), "updates": updates, "epochs": epochs, **score()})
            if not marks:
                break
print(json.dumps({"marks": results}))
