import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpointFile,
  writeCheckpointFile,
  type Checkpoint,
} from '../../src/engine/checkpoint.js';
import type { ModelConfig } from '../../src/engine/config.js';
import { RecurrentError } from '../../src/engine/errors.js';
import { parameterShapes } from '../../src/engine/parameters.js';
import { Rng } from '../../src/engine/rng.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/engine/safetensors.js';

const VOCAB = ['\n', ' ', 'a', 'b', 'c', 'é', '😀'];

function makeCheckpoint(over: Partial<ModelConfig> = {}): Checkpoint {
  const config: ModelConfig = {
    task: 'lm',
    cell: 'lstm',
    hidden: 3,
    layers: 2,
    embedding: 4,
    bidirectional: false,
    vocabSize: VOCAB.length,
    ...over,
  };
  const rng = new Rng(7);
  const tensors = new Map<string, NamedTensor>();
  for (const p of parameterShapes(config)) {
    const data = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
    tensors.set(p.name, { name: p.name, shape: p.shape, data });
  }
  tensors.set('optimizer.decoder.bias.exp_avg', {
    name: 'optimizer.decoder.bias.exp_avg',
    shape: [VOCAB.length],
    data: new Float32Array(VOCAB.length).fill(0.25),
  });
  return { config, tokenizer: { kind: 'char', vocab: VOCAB.slice() }, tensors, metadata: { 'recurrent.training': '{"updates":12}' } };
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeCheckpoint(bytes, 'm.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof RecurrentError, `expected a RecurrentError, got ${String(e)}`);
      assert.match(e.message, /^m\.safetensors: /, 'the message names the file');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

/** Re-encodes a valid checkpoint's raw safetensors with one change, to build files our writer never makes. */
function tampered(edit: (tensors: NamedTensor[], metadata: Record<string, string>) => NamedTensor[]): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(makeCheckpoint()));
  return encodeSafetensors(edit([...tensors.values()], metadata), metadata);
}

test('a checkpoint round-trips bit for bit: decode(encode(c)) re-encodes to the same bytes', () => {
  const c = makeCheckpoint();
  const bytes = encodeCheckpoint(c);
  const back = decodeCheckpoint(bytes);
  assert.deepEqual(back.config, c.config);
  assert.deepEqual(back.tokenizer, c.tokenizer);
  assert.deepEqual(back.metadata, c.metadata, 'extra metadata survives, the reserved keys are not duplicated into it');
  assert.deepEqual([...back.tensors.keys()], [...c.tensors.keys()]);
  for (const [name, t] of c.tensors) assert.deepEqual(back.tensors.get(name)!.data, t.data, `tensor ${name} differs`);
  assert.deepEqual(encodeCheckpoint(back), bytes, 'a decoded checkpoint re-encodes byte for byte');
});

test('the metadata follows docs/checkpoint-format.md: format "1", config without vocabSize, tokenizer as JSON', () => {
  const { metadata } = decodeSafetensors(encodeCheckpoint(makeCheckpoint()));
  assert.equal(metadata['recurrent.format'], '1');
  assert.deepEqual(JSON.parse(metadata['recurrent.config']!), {
    task: 'lm',
    cell: 'lstm',
    hidden: 3,
    layers: 2,
    embedding: 4,
    bidirectional: false,
  });
  assert.deepEqual(JSON.parse(metadata['recurrent.tokenizer']!), { kind: 'char', vocab: VOCAB });
});

test('every cell and the one-hot case (embedding 0) round-trip', () => {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    for (const embedding of [0, 5]) {
      const c = makeCheckpoint({ cell, embedding, layers: 1 });
      const back = decodeCheckpoint(encodeCheckpoint(c));
      assert.deepEqual(back.config, c.config, `${cell} embedding ${embedding}`);
      assert.equal(back.tensors.has('embedding.weight'), embedding > 0);
    }
  }
});

test('an unknown format version is refused, naming the version', () => {
  rejects(
    tampered((t, m) => ((m['recurrent.format'] = '4'), t)),
    /format version "4" is unknown.*reads versions 1, 2, 3/,
  );
  rejects(
    tampered((t, m) => (delete m['recurrent.format'], t)),
    /no recurrent\.format.*not a Recurrent Studio checkpoint/,
  );
});

test('a missing tensor is refused, naming it', () => {
  rejects(
    tampered((t) => t.filter((x) => x.name !== 'rnn.weight_hh_l1')),
    /tensor rnn\.weight_hh_l1 is missing/,
  );
});

test('a tensor whose shape disagrees with the config is refused, with both shapes', () => {
  rejects(
    tampered((t) => t.map((x) => (x.name === 'decoder.weight' ? { name: x.name, shape: [3, 7], data: x.data } : x))),
    /tensor decoder\.weight has shape \[3, 7\] but the config \(lstm, hidden 3.*\) needs \[7, 3\]/,
  );
});

test('a bad config or tokenizer in the metadata is refused with the reason', () => {
  rejects(
    tampered((t, m) => ((m['recurrent.config'] = '{"cell":"transformer","hidden":3,"layers":2}'), t)),
    /config: cell must be one of rnn, lstm, gru/,
  );
  rejects(
    tampered((t, m) => ((m['recurrent.config'] = '{"cell":"lstm",'), t)),
    /recurrent\.config in the metadata is not valid JSON/,
  );
  rejects(
    tampered((t, m) => ((m['recurrent.config'] = '{"cell":"lstm","hidden":3,"layers":2,"embedding":4,"bidirectional":true}'), t)),
    /bidirectional models see the future/,
  );
  rejects(
    tampered((t, m) => ((m['recurrent.tokenizer'] = '{"kind":"char","vocab":["a","a"]}'), t)),
    /tokenizer.*appears twice/,
  );
  rejects(
    tampered((t, m) => ((m['recurrent.config'] = '{"cell":"lstm","hidden":3,"layers":2,"embedding":4,"vocabSize":9}'), t)),
    /vocabSize 9 but the tokenizer has 7/,
  );
});

test('corrupt files are refused by the file-format layer: truncated, header not JSON', () => {
  const bytes = encodeCheckpoint(makeCheckpoint());
  rejects(bytes.subarray(0, bytes.length - 100), /truncated/);
  const bad = bytes.slice();
  bad.fill(0x23, 8, 40);
  rejects(bad, /header is not valid JSON/);
});

test('writeCheckpointFile leaves no temporary file and replaces an existing file whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'recurrent-ckpt-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, new Uint8Array(100000).fill(1));
    const c = makeCheckpoint();
    await writeCheckpointFile(path, c);
    assert.deepEqual(await readdir(dir), ['model.safetensors'], 'only the checkpoint should remain in the folder');
    const onDisk = new Uint8Array(await readFile(path));
    assert.deepEqual(onDisk, encodeCheckpoint(c), 'the file holds exactly the new checkpoint, nothing of the old one');
    const back = await readCheckpointFile(path);
    assert.deepEqual(back.config, c.config);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write that fails keeps the existing checkpoint and leaves no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'recurrent-ckpt-'));
  try {
    const path = join(dir, 'model.safetensors');
    const good = makeCheckpoint();
    await writeCheckpointFile(path, good);
    const before = await readFile(path);
    const broken = makeCheckpoint();
    broken.tensors.set('decoder.bias', { name: 'decoder.bias', shape: [7], data: new Float32Array(3) });
    await assert.rejects(writeCheckpointFile(path, broken));
    assert.deepEqual(await readFile(path), before, 'the previous checkpoint must be intact');
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    await assert.rejects(writeCheckpointFile(join(dir, 'no', 'such', 'x.safetensors'), good), /its folder does not exist/);
    // A weight past float32's range (an update that overflowed): refused by name, the file as it was.
    const overflowed = makeCheckpoint();
    overflowed.tensors.get('decoder.bias')!.data[1] = -Infinity;
    await assert.rejects(
      writeCheckpointFile(path, overflowed),
      (e: unknown) =>
        e instanceof RecurrentError && /^not saved to .*: tensor decoder\.bias holds -Infinity \(element 1 of/.test(e.message),
    );
    assert.deepEqual(await readFile(path), before, 'the previous checkpoint must be intact');
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reading a missing file says there is no checkpoint there', async () => {
  const path = join(tmpdir(), 'recurrent-no-such-dir-42', 'x.safetensors');
  await assert.rejects(readCheckpointFile(path), (e: unknown) => {
    assert.ok(e instanceof RecurrentError);
    assert.equal(e.message, `no checkpoint at ${path}`);
    return true;
  });
});

test('checkpoints written by PyTorch (scripts/pytorch_fixtures.py, tensors in sorted order) are read', async () => {
  for (const name of ['rnn_onehot', 'lstm_onehot', 'gru_onehot', 'rnn_embed_2layers', 'lstm_embed_2layers', 'gru_embed_2layers']) {
    const c = await readCheckpointFile(fileURLToPath(new URL(`../../../test/fixtures/pytorch/${name}.safetensors`, import.meta.url)));
    assert.equal(c.config.vocabSize, 12, `${name}: vocabulary size`);
    assert.equal(c.tensors.size, parameterShapes(c.config).length, `${name}: tensor count`);
    for (const t of c.tensors.values()) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      assert.equal(t.data.length, n, `${name}: ${t.name} should hold ${n} values, got ${t.data.length}`);
    }
    const d = c.tensors.get('decoder.bias')!.data;
    assert.ok(
      d.some((x) => x !== 0) && d.every((x) => Math.abs(x) < 1),
      `${name}: decoder.bias should be PyTorch's uniform init, got ${[...d]}`,
    );
  }
});
