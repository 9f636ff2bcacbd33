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

/** The padded JSON header and the data's byte count of a file of these tensors. */
function layout(tensors: readonly NamedTensor[], metadata: Record<string, string>): { json: Uint8Array; dataBytes: number } {
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
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Padded with spaces so the data starts 8-byte aligned, as the reference implementation does.
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return { json: padded, dataBytes: offset };
}

/** The byte length encodeSafetensors would give, without copying the tensors. */
export function safetensorsBytes(tensors: readonly NamedTensor[], metadata: Record<string, string>): number {
  const { json, dataBytes } = layout(tensors, metadata);
  return 8 + json.length + dataBytes;
}

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const { json, dataBytes } = layout(tensors, metadata);
  const out = new Uint8Array(8 + json.length + dataBytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
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

/** Where a tensor's bytes are, relative to the first byte after the header. */
export interface TensorEntry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** What the header says: the metadata, and every tensor in file order (by offset). */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  entries: TensorEntry[];
}

function failWith(source: string): (why: string) => never {
  return (why) => {
    throw new RecurrentError(`${source}: ${why}`);
  };
}

/**
 * The header's byte length from the file's first 8 bytes, checked before a byte of the header is read
 * or allocated: `fileBytes` (null for a pipe, whose length is unknown) must hold it.
 */
export function headerLength(first: Uint8Array, fileBytes: number | null, source = 'checkpoint'): number {
  const fail = failWith(source);
  if (first.length < 8)
    fail(`the file is truncated (${first.length} bytes, not even the 8-byte header length): it is not a complete .safetensors checkpoint`);
  const length = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES))
    fail(`the header length (${length} bytes) is implausible: the file is not a .safetensors checkpoint or is corrupt`);
  const n = Number(length);
  if (n === 0) fail('the header is empty: the file is not a .safetensors checkpoint or is corrupt');
  if (fileBytes !== null && 8 + n > fileBytes) fail(`the file is truncated: its header needs ${n} bytes but only ${fileBytes - 8} follow`);
  return n;
}

/**
 * Parses and checks the JSON header: every entry F32 with a valid shape whose byte size matches its
 * offsets, no two overlapping, and (when `dataLength`, the bytes after the header, is known) none
 * running past the end. Entries come sorted by offset.
 */
export function parseSafetensorsHeader(json: Uint8Array, dataLength: number | null, source = 'checkpoint'): SafetensorsHeader {
  const fail = failWith(source);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    fail('the header is not valid JSON: the file is not a .safetensors checkpoint or is corrupt');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
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
    if (dataLength !== null && end > dataLength)
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
  return { metadata, entries };
}

/** A tensor from exactly its little-endian bytes, in a fresh aligned buffer it owns. */
export function tensorFromBytes(e: TensorEntry, bytes: Uint8Array): NamedTensor {
  const count = (e.end - e.begin) / 4;
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) {
    // Copied, not bytes.slice(): on a Node Buffer that is a view into a shared pool, not a copy.
    new Uint8Array(data.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  }
  return { name: e.name, shape: e.shape, data };
}

/**
 * Reads a .safetensors file held in memory. Refuses, with a RecurrentError naming `source` and the
 * problem, a file that is truncated, whose header is not JSON, whose offsets overlap or run past the
 * end, whose dtype is not F32, or whose shape disagrees with its byte size. Tensors come in file order.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'checkpoint',
): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, source);
  const { metadata, entries } = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const tensors = new Map<string, NamedTensor>();
  const base = 8 + n;
  for (const e of entries) tensors.set(e.name, tensorFromBytes(e, bytes.subarray(base + e.begin, base + e.end)));
  return { tensors, metadata };
}
