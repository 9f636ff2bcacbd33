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
import { TaskTrainer, type ExampleTask, type TaskModelOptions } from '../../src/engine/taskTrainer.js';
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

// The tasks' modules (docs/checkpoint-format.md, Version 2): model.py's Classifier and Generator, loaded
// from a task run's checkpoint, must give the engine's held-out loss: classify's mean -ln p(label | text)
// per example, generate's mean -ln p(token | label, text before it) per output token, end tokens included.
const TASK_DRIVER = `
import importlib.util, json, sys
import torch
spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
exported = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exported)
model, vocab = exported.load()
data = json.load(open(sys.argv[2]))
seqs, labels = data["ids"], torch.tensor(data["labels"])
T = max(len(s) for s in seqs)
with torch.no_grad():
    if data["task"] == "classify":
        tokens = torch.tensor([s + [0] * (T - len(s)) for s in seqs])
        logits = model(tokens, torch.tensor([len(s) for s in seqs]))
        loss = torch.nn.functional.cross_entropy(logits, labels).item()
    else:
        end = vocab.index("\\n")
        inputs = torch.tensor([[end] + s[:-1] + [0] * (T - len(s)) for s in seqs])
        targets = torch.tensor([s + [-100] * (T - len(s)) for s in seqs])
        logits, _ = model(inputs, labels)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1), ignore_index=-100).item()
print(json.dumps({"labels": model.labels, "loss": loss}))
`;
writeFileSync(join(dir, 'task-driver.py'), TASK_DRIVER);
const NAMES = readFileSync(new URL('../../../sample-workspace/first-names.tsv', import.meta.url), 'utf8')
  .split('\n')
  .slice(0, 400)
  .join('\n');

const TASK_CASES: Array<{ task: ExampleTask; model: Partial<TaskModelOptions> }> = [
  { task: 'classify', model: { cell: 'gru', hidden: 12, bidirectional: true, pooling: 'last' } },
  { task: 'classify', model: { cell: 'lstm', hidden: 8, layers: 2, embedding: 6, bidirectional: true, pooling: 'mean' } },
  { task: 'classify', model: { cell: 'rnn', hidden: 10, pooling: 'last' } },
  { task: 'generate', model: { cell: 'lstm', hidden: 10, layers: 2, embedding: 6 } },
  { task: 'generate', model: { cell: 'gru', hidden: 12 } },
];

for (const c of TASK_CASES) {
  const m = c.model;
  const name = `${c.task}-${m.cell}-${m.layers ?? 1}x${m.hidden}${m.embedding ? `-e${m.embedding}` : ''}${m.bidirectional ? '-bi' : ''}${m.pooling === 'mean' ? '-mean' : ''}`;
  test(
    `a trained ${name} exported for PyTorch loads there as its task's module and gives the engine's held-out loss within ${LOSS_TOL_NATS} nats`,
    { skip: absent ? `skipped: torch is absent: ${absent}` : false },
    async (t) => {
      const trainer = TaskTrainer.create(NAMES, 'names.tsv', {
        task: c.task,
        model: m,
        train: { batch: 8, valShare: 0.2, seed: 7, threads: 1 },
      });
      for (let i = 0; i < 20; i++) trainer.step();
      const ours = trainer.validate();
      const ckName = `${name}.safetensors`;
      await writeCheckpointFile(join(dir, ckName), trainer.toCheckpoint());
      const py = join(dir, `${name}.py`);
      writeFileSync(py, modelPy(trainer.modelConfig, 'char', ckName));
      const ids = trainer.heldOut.ids.map((s) => Array.from(s));
      assert.ok(ids.length >= 50 && ids.every((s) => s.length > 0), 'held-out examples, none empty');
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ task: c.task, ids, labels: Array.from(trainer.heldOut.labels) }));
      const out = execFileSync(PYTHON, [join(dir, 'task-driver.py'), py, join(dir, `${name}.json`)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const theirs = JSON.parse(out) as { labels: string[]; loss: number };
      t.diagnostic(
        `${name}: held-out loss ${ours.loss.toFixed(6)} (engine) vs ${theirs.loss.toFixed(6)} (PyTorch) nats; difference ${Math.abs(ours.loss - theirs.loss).toExponential(2)}`,
      );
      assert.deepEqual(theirs.labels, trainer.labels);
      assert.ok(
        Math.abs(ours.loss - theirs.loss) <= LOSS_TOL_NATS,
        `held-out loss: expected ${ours.loss} nats (engine), got ${theirs.loss} (PyTorch); difference ${Math.abs(ours.loss - theirs.loss).toExponential(2)}`,
      );
    },
  );
}
