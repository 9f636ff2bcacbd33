// Export for PyTorch, run for real: for a small model of each cell trained a few updates by the engine,
// the exported .safetensors and the .py that src/export/modelPy.ts writes beside it are loaded
// by PyTorch (Debian's python3-torch at /usr/bin/python3), which computes the per-token losses of a text
// from a zero state; they must equal the engine's evaluation contract (docs/checkpoint-format.md) within 1e-4 nats.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/cli/load.js';
import { readCheckpointFile, writeCheckpointFile } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN, type CellKind, type ModelConfig } from '../../src/engine/config.js';
import { scoreText } from '../../src/engine/scoring.js';
import { Trainer } from '../../src/engine/trainer.js';
import { modelPy } from '../../src/export/modelPy.js';
import { PYTHON, torchAbsence } from './support/torch.js';

/** The contract's bound for a float32 model (docs/checkpoint-format.md, and the PyTorch reference test). */
const LOSS_TOL_NATS = 1e-4;
const absent = torchAbsence();

// Imports the exported file as a user would (its own load() with its default path beside it), then the
// evaluation contract in PyTorch: zero state, one pass, -ln p(t_i | t_<i) for i = 1..N-1.
const DRIVER = `
import importlib.util, json, sys
import torch
spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
exported = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exported)
model, vocab = exported.load()
ids = {s: i for i, s in enumerate(vocab)}
text = open(sys.argv[2], encoding="utf-8").read()
tokens = torch.tensor([[ids[ch] for ch in text]], dtype=torch.int64)
with torch.no_grad():
    logits, _ = model(tokens[:, :-1])
    per_token = torch.nn.functional.cross_entropy(logits[0], tokens[0, 1:], reduction="none")
print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "perToken": per_token.tolist()}))
`;

const SOTU = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');
const TRAIN_TEXT = SOTU.slice(0, 6000);
/** A passage from inside the training text, so every character is in the vocabulary. */
const PROBE_TEXT = SOTU.slice(3000, 3400);

const dir = mkdtempSync(join(tmpdir(), 'recurrent-pytorch-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'probe.txt'), PROBE_TEXT);
writeFileSync(join(dir, 'driver.py'), DRIVER);

// One-hot and embedded inputs, one and two layers, so each tensor name of docs/checkpoint-format.md is exercised.
const CASES: Array<Omit<ModelConfig, 'vocabSize' | 'task' | 'bidirectional'> & { cell: CellKind }> = [
  { cell: 'rnn', hidden: 24, layers: 1, embedding: 0 },
  { cell: 'lstm', hidden: 24, layers: 2, embedding: 12 },
  { cell: 'gru', hidden: 24, layers: 2, embedding: 0 },
];

for (const c of CASES) {
  const name = `${c.cell}-${c.layers}x${c.hidden}${c.embedding ? `-e${c.embedding}` : ''}`;
  test(
    `a trained ${name} exported for PyTorch loads there and gives the engine's per-token losses within ${LOSS_TOL_NATS} nats`,
    { skip: absent ? `skipped: torch is absent: ${absent}` : false },
    async (t) => {
      const trainer = Trainer.create(
        TRAIN_TEXT,
        { task: 'lm', bidirectional: false, ...c },
        { ...DEFAULT_TRAIN, batch: 4, k1: 32, k2: 32, lr: 0.01, valShare: 0, evalEvery: 0, seed: 7 },
        'char',
      );
      for (let i = 0; i < 25; i++) trainer.step();
      const ckName = `${name}.safetensors`;
      await writeCheckpointFile(join(dir, ckName), trainer.toCheckpoint());
      const py = join(dir, `${name}.py`);
      writeFileSync(py, modelPy(trainer.modelConfig, 'char', ckName));

      // the engine's side reads the file back, as `recurrent eval` would
      const { model, tokenizer } = loadModel(await readCheckpointFile(join(dir, ckName)));
      const ours = scoreText(model, tokenizer, PROBE_TEXT);
      const out = execFileSync(PYTHON, [join(dir, 'driver.py'), py, join(dir, 'probe.txt')], { encoding: 'utf8', timeout: 120_000 });
      const theirs = JSON.parse(out) as { params: number; perToken: number[] };

      assert.equal(
        theirs.params,
        trainer.model.params.reduce((n, p) => n + p.data.length, 0),
        "PyTorch's module has as many parameters as ours",
      );
      assert.equal(
        theirs.perToken.length,
        ours.perToken.length,
        `expected ${ours.perToken.length} per-token losses from PyTorch, got ${theirs.perToken.length}`,
      );
      let worst = 0;
      let at = 0;
      for (let i = 0; i < ours.perToken.length; i++) {
        const d = Math.abs(ours.perToken[i]! - theirs.perToken[i]!);
        if (!(d <= worst)) [worst, at] = [d, i];
      }
      const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
      t.diagnostic(
        `${name}: mean loss ${mean(ours.perToken).toFixed(5)} (engine) vs ${mean(theirs.perToken).toFixed(5)} (PyTorch) nats; worst difference ${worst.toExponential(2)} at token ${at + 1}`,
      );
      assert.ok(
        worst <= LOSS_TOL_NATS,
        `per-token loss at token ${at + 1}: expected ${ours.perToken[at]} nats (engine), got ${theirs.perToken[at]} (PyTorch); difference ${worst.toExponential(2)} > ${LOSS_TOL_NATS}`,
      );
    },
  );
}
