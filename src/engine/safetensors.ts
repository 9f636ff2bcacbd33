// The .safetensors file format, and nothing about what the tensors mean (that is checkpoint.ts):
// an 8-byte little-endian header length n, n bytes of JSON header, then the tensors' bytes.
// Header: {"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]}, ...}, offsets relative to the first byte after the header.
// Only F32 little-endian tensors are written and read: the engine trains in float32.
import { RecurrentError } from './errors.js';

export interface NamedTensor {
  name: string;
  /** Row-major. */
  shape: number[];
  data: Float32Array;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// A header larger than this is not a checkpoint of ours; refuse before allocating for it.
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || names.has(t.name))
      throw new Error(`safetensors: tensor name ${JSON.stringify(t.name)} is reserved or repeated`);
    names.add(t.name);
    if (elements(t.shape) !== t.data.length)
      throw new Error(`safetensors: tensor ${t.name} has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape.slice(), data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
  const jsonBytes0 = new TextEncoder().encode(json);
  json += ' '.repeat((8 - (jsonBytes0.length % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.length;
  for (const t of tensors) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i]!, true);
    }
    at += t.data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a .safetensors file. Refuses, with a RecurrentError naming `source` and the problem, a file
 * that is truncated, whose header is not JSON, whose offsets overlap or run past the end, whose
 * dtype is not F32, or whose shape disagrees with its byte size. Tensors come in file order.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'checkpoint',
): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new RecurrentError(`${source}: ${why}`);
  };
  if (bytes.length < 8)
    fail(`the file is truncated (${bytes.length} bytes, not even the 8-byte header length): it is not a complete .safetensors checkpoint`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    fail(`the header length (${headerLength} bytes) is implausible: the file is not a .safetensors checkpoint or is corrupt`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) fail(`the file is truncated: its header needs ${n} bytes but only ${bytes.length - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    fail('the header is not valid JSON: the file is not a .safetensors checkpoint or is corrupt');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataLength = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata ${JSON.stringify(k)} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== 'object' || info === null) fail(`tensor ${name}: its header entry is not an object`);
    if (info!.dtype !== 'F32')
      fail(`tensor ${name} has dtype ${JSON.stringify(info!.dtype)}; only F32 is supported (save the state_dict as float32)`);
    const shape = info!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    const off = info!.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(`tensor ${name} has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLength)
      fail(
        `tensor ${name} runs past the end of the file (its bytes ${begin}..${end}, but the data is ${dataLength} bytes): the file is truncated or corrupt`,
      );
    const expected = elements(shape as number[]) * 4;
    if (end - begin !== expected)
      fail(`tensor ${name} has shape [${(shape as number[]).join(', ')}] (${expected} bytes of F32) but ${end - begin} bytes of data`);
    entries.push({ name, shape: (shape as number[]).slice(), begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const cur = entries[i]!;
    if (cur.begin < prev.end)
      fail(
        `tensors ${prev.name} and ${cur.name} overlap (bytes ${prev.begin}..${prev.end} and ${cur.begin}..${cur.end}): the file is corrupt`,
      );
  }
  const tensors = new Map<string, NamedTensor>();
  const base = 8 + n;
  for (const e of entries) {
    const count = (e.end - e.begin) / 4;
    let data: Float32Array;
    if (LITTLE_ENDIAN_HOST) {
      // Copy into a fresh, aligned buffer the tensor owns. Not bytes.slice(): on a Node Buffer that
      // is a view into a shared pool, not a copy.
      data = new Float32Array(count);
      new Uint8Array(data.buffer).set(bytes.subarray(base + e.begin, base + e.end));
    } else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + e.begin + 4 * i, true);
    }
    tensors.set(e.name, { name: e.name, shape: e.shape, data });
  }
  return { tensors, metadata };
}
