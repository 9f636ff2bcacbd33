// Export for PyTorch's model.py: beside the .safetensors, a short Python file that defines the module of
// docs/checkpoint-format.md and loads the tensors into it (train.py imports both from it). The module is
// the checkpoint's task's: the language model (Model), classify's Classifier or generate's Generator, as
// that document defines them. The reader needs only torch (the safetensors layout is 8 bytes of header
// length, a JSON header, then raw little-endian F32 data), and checks the file's metadata against the
// config it was written for.
import type { ModelConfig, TokenizerKind } from '../engine/config.js';

export function modelPy(config: ModelConfig, tokenizer: TokenizerKind, checkpointName: string): string {
  const c = config;
  const task =
    c.task === 'classify'
      ? `classify: names one of ${c.labels!.length} labels for a text (${c.bidirectional ? 'bidirectional, ' : ''}${c.pooling} pooling)`
      : c.task === 'generate'
        ? `generate: writes a text for one of ${c.labels!.length} labels`
        : c.task === 'translate'
          ? `translate: an encoder${c.bidirectional ? ' (bidirectional)' : ''} whose final states start a decoder over ${c.targetVocabSize} target tokens`
          : 'language model';
  return `# Loads ${checkpointName}, exported by Recurrent Studio, into PyTorch.
# Model: ${task}; ${c.cell} with ${c.layers} layer(s) of ${c.hidden} units, ${c.embedding ? `embedding ${c.embedding}` : 'one-hot input'}, ${c.vocabSize} ${tokenizer} tokens.
# Usage: python ${checkpointName.replace(/\.safetensors$/, '')}.py   (needs torch)
import json
import struct
from pathlib import Path

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, V, E, H, L, cell, bidirectional):
        super().__init__()
        self.V = V
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)
        self.decoder = nn.Linear(H * (2 if bidirectional else 1), V)

    def forward(self, tokens, state=None):
        """tokens: [B, T] int64 -> logits [B, T, V], state."""
        x = self.embedding(tokens) if hasattr(self, "embedding") else nn.functional.one_hot(tokens, self.V).float()
        out, state = self.rnn(x, state)
        return self.decoder(out), state


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n :]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{name}: expected F32, got {t['dtype']}")
        start, end = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32).reshape(t["shape"])
    return tensors, meta


class Classifier(nn.Module):
    """classify: (embedding) -> rnn from the zero state -> pooled states -> classifier -> logits over the labels."""

    def __init__(self, V, E, H, L, cell, bidirectional, K, pooling):
        super().__init__()
        self.V, self.pooling = V, pooling
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)
        self.classifier = nn.Linear(H * (2 if bidirectional else 1), K)

    def forward(self, tokens, lengths):
        """tokens: [B, T] int64 padded, lengths: [B] int64 (each at least 1) -> logits [B, K]."""
        x = self.embedding(tokens) if hasattr(self, "embedding") else nn.functional.one_hot(tokens, self.V).float()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        if isinstance(h, tuple):
            h = h[0]
        if self.pooling == "last":  # forward after the last token, backward after the first
            feats = torch.cat([h[-2], h[-1]], 1) if self.rnn.bidirectional else h[-1]
        else:  # mean of the top layer's outputs over the text
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
            feats = out.sum(1) / lengths.to(out.device).unsqueeze(1).to(out.dtype)
        return self.classifier(feats)


class Generator(nn.Module):
    """generate: the language model started from its label's learned state instead of the zero state."""

    def __init__(self, V, E, H, L, cell, K):
        super().__init__()
        self.V, self.H, self.L, self.cell = V, H, L, cell
        self.S = 2 if cell == "lstm" else 1
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True)
        self.decoder = nn.Linear(H, V)
        self.label_embedding = nn.Embedding(K, L * self.S * H)

    def initial_state(self, labels):
        """labels: [B] int64 -> the state each label's text starts from (row k laid out [layer, h then c, H])."""
        s = self.label_embedding(labels).view(-1, self.L, self.S, self.H)
        h0 = s[:, :, 0].transpose(0, 1).contiguous()
        return (h0, s[:, :, 1].transpose(0, 1).contiguous()) if self.cell == "lstm" else h0

    def forward(self, tokens, labels=None, state=None):
        """tokens: [B, T] int64, the end token (the line break) then the text; labels: [B] int64 (or state, to go on) -> logits [B, T, V], state."""
        x = self.embedding(tokens) if hasattr(self, "embedding") else nn.functional.one_hot(tokens, self.V).float()
        out, state = self.rnn(x, self.initial_state(labels) if state is None else state)
        return self.decoder(out), state


class Encoder(nn.Module):
    """translate's encoder, classify's without its head: (embedding) -> rnn over packed sources."""

    def __init__(self, V, E, H, L, cell, bidirectional):
        super().__init__()
        self.V = V
        if E > 0:
            self.embedding = nn.Embedding(V, E)
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(E or V, H, L, batch_first=True, bidirectional=bidirectional)

    def forward(self, tokens, lengths):
        """tokens: [B, S] int64 padded, lengths: [B] -> the final states [L * D, B, H] (a tuple (h, c) for lstm)."""
        x = self.embedding(tokens) if hasattr(self, "embedding") else nn.functional.one_hot(tokens, self.V).float()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        return self.rnn(packed)[1]


class Translator(nn.Module):
    """translate: the encoder's final states, both directions concatenated per layer, start the decoder (the language model of the targets)."""

    def __init__(self, V, W, E, H, L, cell, bidirectional):
        super().__init__()
        self.D, self.L, self.H = 2 if bidirectional else 1, L, H
        self.encoder = Encoder(V, E, H, L, cell, bidirectional)
        self.decoder = Model(W, E, H * self.D, L, cell, False)

    def encode(self, sources, lengths):
        """The decoder's first state: [L, B, D * H] per state kind."""

        def bridge(h):
            h = h.view(self.L, self.D, h.shape[1], self.H)
            return torch.cat([h[:, d] for d in range(self.D)], 2)

        state = self.encoder(sources, lengths)
        return tuple(bridge(s) for s in state) if isinstance(state, tuple) else bridge(state)

    def forward(self, sources, lengths, inputs):
        """inputs: [B, T] int64, the end token (the line break) then the target -> logits [B, T, W] (teacher forcing)."""
        return self.decoder(inputs, self.encode(sources, lengths))[0]


def load(path=Path(__file__).with_name(${JSON.stringify(checkpointName)})):
    """The module with the checkpoint's weights, and the vocabulary (a token's id is its index; translate: the sources'); a task's module has .labels."""
    tensors, meta = read_safetensors(path)
    config = json.loads(meta["recurrent.config"])
    vocab = json.loads(meta["recurrent.tokenizer"])["vocab"]
    task = config.get("task", "lm")
    E, H, L, cell = config.get("embedding", 0), config["hidden"], config["layers"], config["cell"]
    if task == "classify":
        model = Classifier(len(vocab), E, H, L, cell, config.get("bidirectional", False), len(config["labels"]), config.get("pooling", "last"))
    elif task == "generate":
        model = Generator(len(vocab), E, H, L, cell, len(config["labels"]))
    elif task == "translate":
        W = len(json.loads(meta["recurrent.targetTokenizer"])["vocab"])
        model = Translator(len(vocab), W, E, H, L, cell, config.get("bidirectional", False))
    elif task == "lm":
        model = Model(len(vocab), E, H, L, cell, config.get("bidirectional", False))
    else:
        raise ValueError(f"{path}: task {task!r} is not one this file knows (lm, classify, generate, translate)")
    # The file may also hold training state (optimizer.*, state.*): load only the module's parameters.
    model.load_state_dict({name: tensors[name] for name in model.state_dict()})
    model.labels = config.get("labels", [])
    return model.eval(), vocab


if __name__ == "__main__":
    model, vocab = load()
    print(model)
    labels = f", labels {', '.join(model.labels)}" if model.labels else ""
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {len(vocab)} tokens{labels}")
`;
}
