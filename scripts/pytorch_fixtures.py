#!/usr/bin/python3
"""Writes the PyTorch reference fixtures that test/unit/*.test.ts compare the engine with.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/pytorch_fixtures.py
The outputs under test/fixtures/pytorch/ are committed, so the tests run without torch.

For each model case: a checkpoint in the contract of docs/checkpoint-format.md (the module defined
there, seeded PyTorch initialisation, float32 weights), and a JSON with the `recurrent eval`
contract's expectations for a short text (zero initial state over the whole sequence,
perToken[i-1] = -ln p(t_i | t_<i), loss = their mean) and the gradients of the summed loss with
respect to every parameter. The expectations are computed in float64 from the float32 weights.

optimizers.json: a few steps of each torch.optim optimizer on fixed gradients, in float64.

task_*: the classify and generate modules (Classifier, Generator below, named as the README's "Tasks"
section names their tensors) on a batch of examples of different lengths, run as PyTorch runs padded
batches (pack_padded_sequence), with each example's loss and the gradients of the summed loss.

translate_*: the translate module (Translator below: classify's encoder and the Model above as its
decoder, started from the encoder's final states) on sources and targets of different lengths, the
sources packed, the targets padded with ignore_index, with the same outputs.
"""
import json
import math
import os
import struct

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pytorch")

# Twelve distinct characters, a line break among them, so one-hot inputs stay small.
TEXT = "a cat sat on a mat.\nthe mat sat on a cat.\n"

CASES = [
    # name, cell, hidden, layers, embedding
    ("rnn_onehot", "rnn", 8, 1, 0),
    ("lstm_onehot", "lstm", 8, 1, 0),
    ("gru_onehot", "gru", 8, 1, 0),
    ("rnn_embed_2layers", "rnn", 6, 2, 5),
    ("lstm_embed_2layers", "lstm", 6, 2, 5),
    ("gru_embed_2layers", "gru", 6, 2, 5),
]


class Model(nn.Module):
    """The module of docs/checkpoint-format.md, verbatim in structure and parameter names."""

    def __init__(self, V, E, H, L, cell, bidirectional):
        super().__init__()
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        self.E = E
        self.V = V
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)
        self.decoder = nn.Linear(H * (2 if bidirectional else 1), V)

    def forward(self, tokens):  # tokens [1, T] -> logits [1, T, V]
        if self.E > 0:
            x = self.embedding(tokens)
        else:
            x = nn.functional.one_hot(tokens, self.V).to(self.decoder.weight.dtype)
        out, _ = self.rnn(x)  # zero initial state
        return self.decoder(out)


def write_safetensors(path, tensors, metadata):
    """The file format: 8-byte LE header length, JSON header padded to 8 bytes, F32 LE data."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def model_case(name, cell, H, L, E):
    torch.manual_seed(1234)
    vocab = sorted(set(TEXT), key=ord)  # the char tokenizer's order: by code point
    V = len(vocab)
    model = Model(V, E, H, L, cell, False)
    config = {"task": "lm", "cell": cell, "hidden": H, "layers": L, "embedding": E, "bidirectional": False}
    metadata = {
        "recurrent.format": "1",
        "recurrent.config": json.dumps(config),
        "recurrent.tokenizer": json.dumps({"kind": "char", "vocab": vocab}),
    }
    # Sorted like the reference safetensors writer, to show that the reader does not rely on order.
    state = sorted(model.state_dict().items())
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"), state, metadata)

    # Expectations in float64 from exactly the float32 weights that were saved.
    model = model.double()
    ids = torch.tensor([[vocab.index(c) for c in TEXT]])
    logits = model(ids[:, :-1])[0]  # [N-1, V]
    per_token = nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
    per_token.sum().backward()
    fixture = {
        "checkpoint": f"{name}.safetensors",
        "config": config,
        "text": TEXT,
        "tokens": ids[0].tolist(),
        "perToken": per_token.tolist(),
        "loss": per_token.mean().item(),
        "bitsPerToken": per_token.mean().item() / math.log(2),
        "gradsOf": "the summed loss",
        "grads": {n: p.grad.flatten().tolist() for n, p in model.named_parameters()},
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    print(f"{name}: V={V} loss {fixture['loss']:.6f} nats")


def optimizer_cases():
    torch.manual_seed(99)
    p0 = torch.randn(5, dtype=torch.float64)
    grads = [torch.randn(5, dtype=torch.float64) for _ in range(3)]
    lr = 0.1
    cases = [
        ("sgd", lambda p: torch.optim.SGD([p], lr=lr, momentum=0.0, weight_decay=0.0), {"optimizer": "sgd", "momentum": 0, "weightDecay": 0}),
        ("sgd_momentum_wd", lambda p: torch.optim.SGD([p], lr=lr, momentum=0.9, weight_decay=0.01), {"optimizer": "sgd", "momentum": 0.9, "weightDecay": 0.01}),
        ("adagrad", lambda p: torch.optim.Adagrad([p], lr=lr, eps=1e-8, weight_decay=0.01), {"optimizer": "adagrad", "eps": 1e-8, "weightDecay": 0.01}),
        ("rmsprop", lambda p: torch.optim.RMSprop([p], lr=lr, alpha=0.95, eps=1e-8, weight_decay=0.01), {"optimizer": "rmsprop", "beta2": 0.95, "eps": 1e-8, "weightDecay": 0.01}),
        ("adam", lambda p: torch.optim.Adam([p], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0), {"optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0}),
        ("adam_l2", lambda p: torch.optim.Adam([p], lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05), {"optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weightDecay": 0.05}),
        ("adamw", lambda p: torch.optim.AdamW([p], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), {"optimizer": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1}),
    ]
    out = {"lr": lr, "initial": p0.tolist(), "grads": [g.tolist() for g in grads], "cases": []}
    for name, make, config in cases:
        p = p0.clone().requires_grad_(True)
        opt = make(p)
        after = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            after.append(p.detach().clone().tolist())
        st = opt.state[p]
        state = {k: v.tolist() for k, v in st.items() if torch.is_tensor(v) and v.numel() == p.numel()}
        out["cases"].append({"name": name, "config": config, "after": after, "state": state})
    with open(os.path.join(OUT, "optimizers.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"optimizers: {len(cases)} cases")


class Classifier(nn.Module):
    """Many-to-one: (embedding) -> rnn (packed, zero state) -> pooled states -> classifier."""

    def __init__(self, V, E, H, L, cell, bidirectional, K, pooling):
        super().__init__()
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        self.E, self.V, self.pooling = E, V, pooling
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)
        self.classifier = nn.Linear(H * (2 if bidirectional else 1), K)

    def forward(self, tokens, lengths):  # tokens [B, T] padded, lengths [B] -> logits [B, K]
        x = self.embedding(tokens) if self.E > 0 else nn.functional.one_hot(tokens, self.V).to(self.classifier.weight.dtype)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        if isinstance(h, tuple):
            h = h[0]
        if self.pooling == "last":
            feats = torch.cat([h[-2], h[-1]], 1) if self.rnn.bidirectional else h[-1]
        else:
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
            feats = out.sum(1) / lengths.unsqueeze(1).to(out.dtype)
        return self.classifier(feats)


class Generator(nn.Module):
    """One-to-many: the language model of CHECKPOINT.md started from label_embedding[label]."""

    def __init__(self, V, E, H, L, cell, K):
        super().__init__()
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        self.E, self.V, self.H, self.L, self.cell = E, V, H, L, cell
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True)
        self.decoder = nn.Linear(H, V)
        self.S = 2 if cell == "lstm" else 1
        self.label_embedding = nn.Embedding(K, L * self.S * H)

    def forward(self, tokens, labels):  # tokens [B, T], labels [B] -> logits [B, T, V]
        x = self.embedding(tokens) if self.E > 0 else nn.functional.one_hot(tokens, self.V).to(self.decoder.weight.dtype)
        s = self.label_embedding(labels).view(-1, self.L, self.S, self.H)
        h0 = s[:, :, 0].transpose(0, 1).contiguous()
        state = (h0, s[:, :, 1].transpose(0, 1).contiguous()) if self.cell == "lstm" else h0
        out, _ = self.rnn(x, state)
        return self.decoder(out)


TASK_TEXTS = [("a cat", "x"), ("on a mat.", "y"), ("sat", "x"), ("the", "z"), ("a", "y"), ("mat on the cat", "x")]
TASK_CASES = [
    # name, task, cell, hidden, layers, embedding, bidirectional, pooling
    ("task_classify_gru_bi", "classify", "gru", 5, 1, 0, True, "last"),
    ("task_classify_lstm_bi_2layers_mean", "classify", "lstm", 4, 2, 3, True, "mean"),
    ("task_classify_rnn", "classify", "rnn", 6, 1, 0, False, "last"),
    ("task_generate_gru", "generate", "gru", 5, 1, 0, False, "last"),
    ("task_generate_lstm_2layers", "generate", "lstm", 4, 2, 3, False, "last"),
]


def task_case(name, task, cell, H, L, E, bidirectional, pooling):
    torch.manual_seed(4321)
    labels = ["x", "y", "z"]
    K = len(labels)
    texts = [t for t, _ in TASK_TEXTS]
    chars = set("".join(texts)) | ({"\n"} if task == "generate" else set())
    vocab = sorted(chars, key=ord)
    V = len(vocab)
    if task == "classify":
        model = Classifier(V, E, H, L, cell, bidirectional, K, pooling)
        config = {"task": task, "cell": cell, "hidden": H, "layers": L, "embedding": E, "bidirectional": bidirectional, "labels": labels, "maxLength": 0, "pooling": pooling}
    else:
        model = Generator(V, E, H, L, cell, K)
        config = {"task": task, "cell": cell, "hidden": H, "layers": L, "embedding": E, "bidirectional": False, "labels": labels, "maxLength": 0}
    metadata = {
        "recurrent.format": "2",
        "recurrent.config": json.dumps(config),
        "recurrent.tokenizer": json.dumps({"kind": "char", "vocab": vocab}),
    }
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"), sorted(model.state_dict().items()), metadata)

    model = model.double()
    label_ids = torch.tensor([labels.index(l) for _, l in TASK_TEXTS])
    if task == "classify":
        seqs = [[vocab.index(c) for c in t] for t in texts]
    else:
        seqs = [[vocab.index(c) for c in t] + [vocab.index("\n")] for t in texts]
    T = max(len(s) for s in seqs)
    if task == "classify":
        tokens = torch.tensor([s + [0] * (T - len(s)) for s in seqs])
        lengths = torch.tensor([len(s) for s in seqs])
        per_example = nn.functional.cross_entropy(model(tokens, lengths), label_ids, reduction="none")
    else:
        end = vocab.index("\n")
        inputs = torch.tensor([[end] + s[:-1] + [0] * (T - len(s)) for s in seqs])
        targets = torch.tensor([s + [-100] * (T - len(s)) for s in seqs])
        logits = model(inputs, label_ids)
        per_token = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none", ignore_index=-100).view(len(seqs), T)
        per_example = per_token.sum(1)
    per_example.sum().backward()
    fixture = {
        "checkpoint": f"{name}.safetensors",
        "config": config,
        "tokens": seqs,
        "labels": label_ids.tolist(),
        "perExample": per_example.tolist(),
        "gradsOf": "the summed loss (generate: over every output token, the end tokens included)",
        "grads": {n: p.grad.flatten().tolist() for n, p in model.named_parameters()},
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    print(f"{name}: V={V} summed loss {per_example.sum().item():.6f} nats")


class Encoder(nn.Module):
    """Classify's encoder without its head: (embedding) -> rnn over packed sources."""

    def __init__(self, V, E, H, L, cell, bidirectional):
        super().__init__()
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        self.E, self.V = E, V
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)

    def forward(self, tokens, lengths):  # -> h_n (and c_n) [L * D, B, H], per example after its own last token
        x = self.embedding(tokens) if self.E > 0 else nn.functional.one_hot(tokens, self.V).to(self.rnn.weight_hh_l0.dtype)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)
        return state


class Translator(nn.Module):
    """Many-to-many: the encoder's final states, both directions concatenated per layer, start the decoder."""

    def __init__(self, V, W, E, H, L, cell, bidirectional):
        super().__init__()
        self.D = 2 if bidirectional else 1
        self.L, self.H = L, H
        self.encoder = Encoder(V, E, H, L, cell, bidirectional)
        self.decoder = Model(W, E, H * self.D, L, cell, False)

    def bridge(self, h):  # [L * D, B, H] -> [L, B, D * H]
        B = h.shape[1]
        h = h.view(self.L, self.D, B, self.H)
        return torch.cat([h[:, d] for d in range(self.D)], dim=2)

    def forward(self, sources, lengths, inputs):  # inputs: the end token, then the target -> logits [B, T, W]
        state = self.encoder(sources, lengths)
        state = tuple(self.bridge(s) for s in state) if isinstance(state, tuple) else self.bridge(state)
        d = self.decoder
        y = d.embedding(inputs) if d.E > 0 else nn.functional.one_hot(inputs, d.V).to(d.decoder.weight.dtype)
        out, _ = d.rnn(y, state)
        return d.decoder(out)


TRANSLATE_PAIRS = [("cat", "K AE1 T"), ("a", "AH0"), ("tacos", "T AA1 K OW0 Z"), ("sat", "S AE1 T"), ("toast", "T OW1 S T"), ("oat", "OW1 T")]
TRANSLATE_CASES = [
    # name, cell, hidden, layers, embedding, bidirectional
    ("translate_lstm_bi", "lstm", 4, 1, 0, True),
    ("translate_gru_bi_2layers", "gru", 3, 2, 3, True),
    ("translate_rnn", "rnn", 5, 1, 0, False),
    ("translate_lstm_2layers", "lstm", 3, 2, 2, False),
]


def translate_case(name, cell, H, L, E, bidirectional):
    torch.manual_seed(2468)
    src_vocab = sorted(set("".join(s for s, _ in TRANSLATE_PAIRS)), key=ord)
    tgt_vocab = sorted({p for _, t in TRANSLATE_PAIRS for p in t.split()} | {"\n"})
    V, W = len(src_vocab), len(tgt_vocab)
    end = tgt_vocab.index("\n")
    model = Translator(V, W, E, H, L, cell, bidirectional)
    max_output = 12
    config = {"task": "translate", "cell": cell, "hidden": H, "layers": L, "embedding": E, "bidirectional": bidirectional, "maxLength": 0, "maxOutput": max_output}
    metadata = {
        "recurrent.format": "3",
        "recurrent.config": json.dumps(config),
        "recurrent.tokenizer": json.dumps({"kind": "char", "vocab": src_vocab}),
        "recurrent.targetTokenizer": json.dumps({"kind": "symbol", "vocab": tgt_vocab}),
    }
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"), sorted(model.state_dict().items()), metadata)

    model = model.double()
    sources = [[src_vocab.index(c) for c in s] for s, _ in TRANSLATE_PAIRS]
    targets = [[tgt_vocab.index(p) for p in t.split()] + [end] for _, t in TRANSLATE_PAIRS]
    S = max(len(s) for s in sources)
    T = max(len(t) for t in targets)
    src = torch.tensor([s + [0] * (S - len(s)) for s in sources])
    lengths = torch.tensor([len(s) for s in sources])
    inputs = torch.tensor([[end] + t[:-1] + [0] * (T - len(t)) for t in targets])
    gold = torch.tensor([t + [-100] * (T - len(t)) for t in targets])
    logits = model(src, lengths, inputs)
    per_token = nn.functional.cross_entropy(logits.reshape(-1, W), gold.reshape(-1), reduction="none", ignore_index=-100).view(len(targets), T)
    per_example = per_token.sum(1)
    per_example.sum().backward()
    # Greedy translations, one example at a time, as the engine's decoder writes them.
    greedy = []
    with torch.no_grad():
        for s in sources:
            state = model.encoder(torch.tensor([s]), torch.tensor([len(s)]))
            state = tuple(model.bridge(x) for x in state) if isinstance(state, tuple) else model.bridge(state)
            out, token = [], end
            for _ in range(max_output):
                d = model.decoder
                y = d.embedding(torch.tensor([[token]])) if d.E > 0 else nn.functional.one_hot(torch.tensor([[token]]), W).double()
                o, state = d.rnn(y, state)
                token = d.decoder(o)[0, -1].argmax().item()
                if token == end:
                    break
                out.append(token)
            greedy.append(out)
    fixture = {
        "checkpoint": f"{name}.safetensors",
        "config": config,
        "sources": sources,
        "targets": targets,
        "perExample": per_example.tolist(),
        "greedy": greedy,
        "gradsOf": "the summed loss over every target token, the end tokens included",
        "grads": {n: p.grad.flatten().tolist() for n, p in model.named_parameters()},
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    print(f"{name}: V={V} W={W} summed loss {per_example.sum().item():.6f} nats")


def main():
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        model_case(*case)
    optimizer_cases()
    for case in TASK_CASES:
        task_case(*case)
    for case in TRANSLATE_CASES:
        translate_case(*case)


if __name__ == "__main__":
    main()
