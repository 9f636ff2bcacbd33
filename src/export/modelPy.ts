// Export for PyTorch's model.py: beside the .safetensors, a short Python file that defines the module of
// docs/checkpoint-format.md and loads the tensors into it (train.py imports both from it). The reader needs only torch (the safetensors
// layout is 8 bytes of header length, a JSON header, then raw little-endian F32 data), and checks the
// file's metadata against the config it was written for.
import type { ModelConfig, TokenizerKind } from '../engine/config.js';

export function modelPy(config: ModelConfig, tokenizer: TokenizerKind, checkpointName: string): string {
  const c = config;
  return `# Loads ${checkpointName}, exported by Recurrent Studio, into PyTorch.
# Model: ${c.cell} with ${c.layers} layer(s) of ${c.hidden} units, ${c.embedding ? `embedding ${c.embedding}` : 'one-hot input'}, ${c.vocabSize} ${tokenizer} tokens.
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


def load(path=Path(__file__).with_name(${JSON.stringify(checkpointName)})):
    tensors, meta = read_safetensors(path)
    config = json.loads(meta["recurrent.config"])
    vocab = json.loads(meta["recurrent.tokenizer"])["vocab"]
    model = Model(len(vocab), config.get("embedding", 0), config["hidden"], config["layers"], config["cell"], config.get("bidirectional", False))
    # The file may also hold training state (optimizer.*, state.*): load only the module's parameters.
    model.load_state_dict({name: tensors[name] for name in model.state_dict()})
    return model.eval(), vocab


if __name__ == "__main__":
    model, vocab = load()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {len(vocab)} tokens")
`;
}
