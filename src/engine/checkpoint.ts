// The checkpoint contract of docs/checkpoint-format.md, read and written only through this module:
// a .safetensors file whose tensors are named as PyTorch names the model's parameters, with
// `recurrent.format`, `recurrent.config` and `recurrent.tokenizer` in `__metadata__`.
//
// Versions: 1 is the language model (task lm). 2 adds the tasks classify and generate: the config gains
// `task`, `labels`, `maxLength` (and classify's `pooling`), and the tensors their heads
// (docs/checkpoint-format.md, "Version 2"). 3 adds the task translate: an encoder and a decoder, and the
// target side's tokenizer in `recurrent.targetTokenizer` ("Version 3"). Each model is written as the
// lowest version that holds it (a language model as 1, classify and generate as 2), so readers that
// know only an earlier version keep reading what they read; every earlier file loads as it always did.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { validateModelConfig, type ModelConfig } from './config.js';
import { RecurrentError } from './errors.js';
import { parameterShapes } from './parameters.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  headerLength,
  parseSafetensorsHeader,
  safetensorsBytes,
  tensorFromBytes,
  type NamedTensor,
  type TensorEntry,
} from './safetensors.js';
import { Tokenizer, type TokenizerSpec } from './tokenizer.js';

export const CHECKPOINT_FORMAT = '3';
/** Versions this reader understands; a file of version 1 is a language model, of version 2 not a translate model. */
export const READABLE_FORMATS = ['1', '2', '3'];
const FORMAT_KEY = 'recurrent.format';
const CONFIG_KEY = 'recurrent.config';
const TOKENIZER_KEY = 'recurrent.tokenizer';
const TARGET_TOKENIZER_KEY = 'recurrent.targetTokenizer';
const RESERVED = new Set([FORMAT_KEY, CONFIG_KEY, TOKENIZER_KEY, TARGET_TOKENIZER_KEY]);

/** The version a model of this task is written as: the first that holds it. */
export function formatOf(task: ModelConfig['task']): string {
  return task === 'lm' ? '1' : task === 'translate' ? '3' : '2';
}

export interface Checkpoint {
  config: ModelConfig;
  /** The texts' tokenizer (translate: the sources'). */
  tokenizer: TokenizerSpec;
  /** translate: the targets' tokenizer. */
  targetTokenizer?: TokenizerSpec;
  /** Parameters by PyTorch name, plus optional extras (`optimizer.*`, `state.*`), in file order. */
  tensors: Map<string, NamedTensor>;
  /** Every metadata entry other than the three `recurrent.format/config/tokenizer` keys. */
  metadata: Record<string, string>;
}

function checkpointMetadata(c: Checkpoint): Record<string, string> {
  if (c.config.vocabSize !== c.tokenizer.vocab.length) {
    throw new Error(`checkpoint: config.vocabSize ${c.config.vocabSize} differs from the vocabulary's ${c.tokenizer.vocab.length} tokens`);
  }
  if (c.config.task === 'translate' && c.config.targetVocabSize !== c.targetTokenizer?.vocab.length) {
    throw new Error(`checkpoint: config.targetVocabSize ${c.config.targetVocabSize} differs from the target vocabulary's`);
  }
  // vocabSize and targetVocabSize are not stored: they are the vocabularies' lengths, and two copies could disagree.
  const { vocabSize: _vocabSize, targetVocabSize: _targetVocabSize, ...config } = c.config;
  const metadata: Record<string, string> = {
    [FORMAT_KEY]: formatOf(c.config.task),
    [CONFIG_KEY]: JSON.stringify(config),
    [TOKENIZER_KEY]: JSON.stringify(c.tokenizer),
  };
  if (c.config.task === 'translate') metadata[TARGET_TOKENIZER_KEY] = JSON.stringify(c.targetTokenizer);
  for (const [k, v] of Object.entries(c.metadata)) if (!RESERVED.has(k)) metadata[k] = v;
  return metadata;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return encodeSafetensors([...c.tensors.values()], checkpointMetadata(c));
}

/** The size of the file writeCheckpointFile would write, without encoding it. */
export function checkpointFileBytes(c: Checkpoint): number {
  return safetensorsBytes([...c.tensors.values()], checkpointMetadata(c));
}

function parseJson(source: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new RecurrentError(`${source}: the metadata has no ${key}: it is not a Recurrent Studio checkpoint`);
  try {
    return JSON.parse(text);
  } catch {
    throw new RecurrentError(`${source}: ${key} in the metadata is not valid JSON`);
  }
}

/** Wraps validation errors from config.ts and tokenizer.ts with the file they came from. */
function within<T>(source: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RecurrentError) throw new RecurrentError(`${source}: ${what}: ${e.message}`);
    throw e;
  }
}

/** What a checkpoint's header holds, checked before any tensor is read. */
interface CheckpointHeader {
  config: ModelConfig;
  tokenizer: TokenizerSpec;
  targetTokenizer?: TokenizerSpec;
  metadata: Record<string, string>;
  entries: TensorEntry[];
  /** The names of the model's parameters (the rest are training state: optimizer.*, state.*). */
  parameters: Set<string>;
}

function checkHeader(metadata: Record<string, string>, entries: TensorEntry[], source: string): CheckpointHeader {
  const format = metadata[FORMAT_KEY];
  if (format === undefined)
    throw new RecurrentError(`${source}: the metadata has no ${FORMAT_KEY}: it is not a Recurrent Studio checkpoint`);
  if (!READABLE_FORMATS.includes(format)) {
    throw new RecurrentError(
      `${source}: checkpoint format version ${JSON.stringify(format)} is unknown; this version of Recurrent Studio reads versions ${READABLE_FORMATS.join(', ')} (update it to read newer checkpoints)`,
    );
  }
  const tokenizer = within(source, 'tokenizer', () =>
    Tokenizer.fromSpec(parseJson(source, TOKENIZER_KEY, metadata[TOKENIZER_KEY]) as TokenizerSpec),
  ).spec();
  const raw = parseJson(source, CONFIG_KEY, metadata[CONFIG_KEY]);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RecurrentError(`${source}: ${CONFIG_KEY} is not a JSON object`);
  const stated = (raw as { vocabSize?: unknown }).vocabSize;
  if (stated !== undefined && stated !== tokenizer.vocab.length) {
    throw new RecurrentError(
      `${source}: the config says vocabSize ${JSON.stringify(stated)} but the tokenizer has ${tokenizer.vocab.length} tokens`,
    );
  }
  const task = (raw as { task?: unknown }).task;
  let targetTokenizer: TokenizerSpec | undefined;
  if (task === 'translate') {
    targetTokenizer = within(source, 'target tokenizer', () =>
      Tokenizer.fromSpec(parseJson(source, TARGET_TOKENIZER_KEY, metadata[TARGET_TOKENIZER_KEY]) as TokenizerSpec),
    ).spec();
  }
  const config = within(source, 'config', () =>
    validateModelConfig({
      ...(raw as Partial<ModelConfig>),
      vocabSize: tokenizer.vocab.length,
      ...(targetTokenizer !== undefined ? { targetVocabSize: targetTokenizer.vocab.length } : {}),
    }),
  );
  if (Number(format) < Number(formatOf(config.task))) {
    throw new RecurrentError(
      `${source}: a version ${format} checkpoint cannot hold a ${config.task} model (version ${formatOf(config.task)} brought it), but its config says task ${config.task}`,
    );
  }
  const describe = `${config.task === 'lm' ? '' : `task ${config.task}, ${config.labels !== undefined ? `${config.labels.length} labels` : `target vocabulary ${config.targetVocabSize}`}, `}${config.cell}, hidden ${config.hidden}, ${config.layers} layer(s), embedding ${config.embedding}, vocabulary ${config.vocabSize}`;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const parameters = new Set<string>();
  for (const p of parameterShapes(config)) {
    const t = byName.get(p.name);
    if (t === undefined) throw new RecurrentError(`${source}: tensor ${p.name} is missing (the config, ${describe}, needs it)`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new RecurrentError(
        `${source}: tensor ${p.name} has shape [${t.shape.join(', ')}] but the config (${describe}) needs [${p.shape.join(', ')}]`,
      );
    }
    parameters.add(p.name);
  }
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!RESERVED.has(k)) rest[k] = v;
  return { config, tokenizer, ...(targetTokenizer !== undefined ? { targetTokenizer } : {}), metadata: rest, entries, parameters };
}

/**
 * A NaN or infinite weight is never written by a run (the trainer keeps the last good state), so one
 * in a file means it is corrupt: refused like any other corruption, instead of sampling blank text.
 */
function checkFinite(t: NamedTensor, source: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new RecurrentError(
        `${source}: tensor ${t.name} holds ${d[i]} (element ${i} of ${d.length}): the checkpoint is corrupt; use an earlier one`,
      );
    }
  }
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const entries = [...tensors.values()].map((t) => ({ name: t.name, shape: t.shape, begin: 0, end: 0 }));
  const h = checkHeader(metadata, entries, source);
  for (const t of tensors.values()) checkFinite(t, source);
  return {
    config: h.config,
    tokenizer: h.tokenizer,
    ...(h.targetTokenizer ? { targetTokenizer: h.targetTokenizer } : {}),
    tensors,
    metadata: h.metadata,
  };
}

function describeFsError(e: unknown, path: string, doing: string): never {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') throw new RecurrentError(`cannot ${doing} ${path}: its folder does not exist`);
  if (code === 'EACCES' || code === 'EPERM') throw new RecurrentError(`cannot ${doing} ${path}: permission denied`);
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new RecurrentError(`cannot ${doing} ${path}: the disk is full`);
  if (code === 'EROFS') throw new RecurrentError(`cannot ${doing} ${path}: the file system is read-only`);
  if (code === 'ENOTDIR') throw new RecurrentError(`cannot ${doing} ${path}: a part of its path is not a folder`);
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') throw new RecurrentError(`cannot ${doing} ${path}: it is a folder`);
  throw e;
}

/**
 * Checks, before a run that saves to `path` starts, that a checkpoint of `bytes` can be written there:
 * its folder exists and is a folder, a file can be created in it (a temporary one, removed at once),
 * and its disk has room for the new file beside the old one (writeCheckpointFile renames over it).
 */
export async function checkCheckpointTarget(path: string, bytes: number): Promise<void> {
  const dir = dirname(path);
  let info;
  try {
    info = await stat(dir);
  } catch (e) {
    describeFsError(e, path, 'write a checkpoint to');
  }
  if (!info.isDirectory()) throw new RecurrentError(`cannot write a checkpoint to ${path}: ${dir} is not a folder`);
  const tmp = temporaryName(path);
  try {
    await (await open(tmp, 'wx')).close();
    await unlink(tmp);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    describeFsError(e, path, 'write a checkpoint to');
  }
  let free: number;
  try {
    const fs = await statfs(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // a file system that does not say how much room it has: the save itself will tell
  }
  if (free < bytes) {
    throw new RecurrentError(
      `cannot write a checkpoint to ${path}: its disk has ${megabytes(free)} free and a checkpoint of this model takes ${megabytes(bytes)}; free some space or save elsewhere`,
    );
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/**
 * Writes to a temporary file beside `path`, flushes it to disk, then renames it over `path`:
 * rename within one folder is atomic, so a crash leaves either the old file or the new one whole.
 */
export async function writeCheckpointFile(path: string, c: Checkpoint): Promise<void> {
  // What a run writes it must be able to read back (decodeCheckpoint refuses a NaN weight as corruption):
  // a state past float32's range is never saved, whichever path asked for the save.
  for (const t of c.tensors.values()) {
    const i = t.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new RecurrentError(
        `not saved to ${path}: tensor ${t.name} holds ${t.data[i]} (element ${i} of ${t.data.length}), so the weights are no longer a state to keep; what was saved before stands`,
      );
    }
  }
  const bytes = encodeCheckpoint(c);
  const tmp = temporaryName(path);
  let handle;
  try {
    handle = await open(tmp, 'wx');
  } catch (e) {
    describeFsError(e, path, 'write a checkpoint to');
  }
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    describeFsError(e, path, 'write a checkpoint to');
  }
  // Make the rename itself durable; some platforms cannot open a folder, which only weakens that.
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* best effort */
  }
}

/**
 * Which tensors readCheckpointFile loads: every one ('all', to resume training), the model's parameters
 * only ('parameters', to sample or evaluate), or none (the header checked, e.g. before overwriting).
 */
export type TensorSelection = 'all' | 'parameters' | 'none';

/**
 * Reads a checkpoint in the order that keeps memory bounded whatever the file is: the 8-byte header
 * length first (checked against the file's size), then the header (checked as a checkpoint: format,
 * tokenizer, config, every tensor's shape), and only then the tensors it selects, one at a time, each
 * checked to be finite. A pipe or a device (`/dev/zero`) is read the same way, front to back.
 */
export async function readCheckpointFile(
  path: string,
  opts: { tensors?: TensorSelection } = {},
): Promise<Checkpoint & { /** Every tensor the file holds, in file order, loaded or not. */ stored: string[] }> {
  const selection = opts.tensors ?? 'all';
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT') throw new RecurrentError(`no checkpoint at ${path}`);
    describeFsError(e, path, 'read the checkpoint');
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new RecurrentError(`${path} is a folder, not a checkpoint`);
    const src = new ByteSource(handle, info.isFile() ? info.size : null, path);
    const n = headerLength(await src.read(8, 'the 8-byte header length'), src.size, path);
    const parsed = parseSafetensorsHeader(await src.read(n, 'its header'), src.size === null ? null : src.size - 8 - n, path);
    const h = checkHeader(parsed.metadata, parsed.entries, path);
    const tensors = new Map<string, NamedTensor>();
    const base = 8 + n;
    for (const e of h.entries) {
      if (selection === 'none' || (selection === 'parameters' && !h.parameters.has(e.name))) continue;
      await src.skipTo(base + e.begin);
      const t = tensorFromBytes(e, await src.read(e.end - e.begin, `tensor ${e.name}`));
      checkFinite(t, path);
      tensors.set(e.name, t);
    }
    return {
      config: h.config,
      tokenizer: h.tokenizer,
      ...(h.targetTokenizer ? { targetTokenizer: h.targetTokenizer } : {}),
      tensors,
      metadata: h.metadata,
      stored: h.entries.map((e) => e.name),
    };
  } catch (e) {
    if (e instanceof RecurrentError) throw e;
    describeFsError(e, path, 'read the checkpoint');
  } finally {
    await handle.close();
  }
}

/** A file read front to back: by position when it is a regular file, as a stream otherwise (pipes, devices). */
class ByteSource {
  private at = 0;

  constructor(
    private readonly handle: FileHandle,
    /** Bytes in the file, or null when it is not a regular file. */
    readonly size: number | null,
    private readonly source: string,
  ) {}

  /** Exactly n bytes from here, or a RecurrentError saying the file ends before `what`. */
  async read(n: number, what: string): Promise<Uint8Array> {
    if (this.size !== null && this.at + n > this.size) this.truncated(what);
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.handle.read(out, got, n - got, this.size === null ? null : this.at + got);
      if (bytesRead === 0) this.truncated(what);
      got += bytesRead;
    }
    this.at += n;
    return out;
  }

  /** Moves forward to byte `to`; a stream reads and drops what lies between, a chunk at a time. */
  async skipTo(to: number): Promise<void> {
    if (this.size !== null) {
      this.at = to;
      return;
    }
    while (this.at < to) await this.read(Math.min(to - this.at, 1 << 20), 'the next tensor');
  }

  private truncated(what: string): never {
    throw new RecurrentError(`${this.source}: the file is truncated: it ends before ${what}`);
  }
}

/** The name writeCheckpointFile gives its temporary file beside `path`: hidden, with the writer's PID. */
function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Deletes the temporary files a killed save of `path` left beside it (SIGKILL, an OOM kill or a power cut
 * between creating and renaming them): those of its own name whose writer's PID is no longer running.
 * A live writer's file, this process's included, is left alone. Returns how many files and bytes went.
 */
export async function removeStaleTemporaries(path: string): Promise<{ files: number; bytes: number }> {
  return removeStale(dirname(path), (name) => name === basename(path));
}

/** removeStaleTemporaries for every checkpoint name in `dir` (a folder only checkpoints are saved into). */
export async function removeStaleTemporariesIn(dir: string): Promise<{ files: number; bytes: number }> {
  return removeStale(dir, () => true);
}

async function removeStale(dir: string, ofName: (name: string) => boolean): Promise<{ files: number; bytes: number }> {
  const removed = { files: 0, bytes: 0 };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (!m || !ofName(m[1]!)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processRunning(pid)) continue;
    const file = join(dir, name);
    try {
      const { size } = await stat(file);
      await unlink(file);
      removed.files++;
      removed.bytes += size;
    } catch {
      // gone already, or not ours to delete
    }
  }
  return removed;
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
