import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecurrentError } from '../../src/engine/errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/engine/safetensors.js';

/** A file with a hand-written header, to build corruptions the encoder would never write. */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes, 'x.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof RecurrentError, `expected a RecurrentError, got ${String(e)}`);
      assert.match(e.message, /^x\.safetensors: /, 'the message names the file');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

const tensors: NamedTensor[] = [
  { name: 'w', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, Math.PI, -0, 1e-42) },
  { name: 'b', shape: [3], data: Float32Array.of(Infinity, -Infinity, NaN) },
  { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
];

test('encode then decode gives the same tensors bit for bit, and re-encoding the same bytes', () => {
  const bytes = encodeSafetensors(tensors, { note: 'héllo', k: '{"a":1}' });
  const { tensors: back, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { note: 'héllo', k: '{"a":1}' });
  assert.deepEqual([...back.keys()], ['w', 'b', 'empty'], 'tensors come back in file order');
  for (const t of tensors) {
    const got = back.get(t.name)!;
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(
      new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength),
      new Uint8Array(t.data.buffer),
      `tensor ${t.name}: bits differ`,
    );
  }
  const again = encodeSafetensors([...back.values()], metadata);
  assert.deepEqual(again, bytes, 're-encoding a decoded file should reproduce it byte for byte');
});

test('the header is padded so tensor data starts 8-byte aligned, as the reference writer does', () => {
  const bytes = encodeSafetensors(tensors, {});
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, `data starts at ${8 + n}`);
});

test('a file shorter than 8 bytes or shorter than its header is refused as truncated', () => {
  rejects(new Uint8Array(5), /truncated/);
  const bytes = encodeSafetensors(tensors, {});
  rejects(bytes.subarray(0, 20), /truncated: its header needs/);
});

test('a file cut inside its tensor data is refused: the tensor runs past the end', () => {
  const bytes = encodeSafetensors(tensors, {});
  rejects(bytes.subarray(0, bytes.length - 4), /tensor b runs past the end of the file.*truncated or corrupt/);
});

test('a header that is not JSON is refused', () => {
  const bytes = encodeSafetensors(tensors, {});
  bytes[9] = 0x7b; // '{' then a stray byte breaks the JSON
  bytes[10] = 0x3a;
  rejects(bytes, /header is not valid JSON/);
  rejects(rawFile([1, 2], 0), /not a JSON object/);
});

test('overlapping tensor offsets are refused', () => {
  const header = {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  };
  rejects(rawFile(header, 12), /tensors a and b overlap/);
});

test('offsets past the end, a dtype other than F32 and a shape that disagrees with the byte size are refused', () => {
  rejects(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), /tensor a runs past the end/);
  rejects(rawFile({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, 8), /dtype "F16"; only F32/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /shape \[3\] \(12 bytes of F32\) but 8 bytes/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /invalid data_offsets/);
  rejects(rawFile({ __metadata__: { a: 1 } }, 0), /metadata "a" is not a string/);
});

test('decoding from a Node Buffer (a view into a shared pool) copies exactly each tensor', () => {
  const bytes = encodeSafetensors(tensors, {});
  const pooled = Buffer.concat([Buffer.from('junk-before'), Buffer.from(bytes)]).subarray(11);
  const back = decodeSafetensors(pooled).tensors;
  assert.deepEqual([...back.get('w')!.data], [...tensors[0]!.data]);
  assert.equal(back.get('b')!.data.length, 3, `expected 3 values, got ${back.get('b')!.data.length}`);
});
