// The checkpoint contract of docs/checkpoint-format.md, read and written only through this module:
// a .safetensors file whose tensors are named as PyTorch names the model's parameters, with
// `recurrent.format`, `recurrent.config` and `recurrent.tokenizer` in `__metadata__`.
//
// Versions: 1 is the language model (task lm). 2 adds the tasks classify and generate: the config gains
// `task`, `labels`, `maxLength` (and classify's `pooling`), and the tensors their heads
// (docs/checkpoint-format.md, "Version 2"). A language model is still written as version 1, which it is, so readers that know
// only version 1 keep reading every language model; version 1 files load as they always did.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { validateModelConfig, type ModelConfig } from './config.js';
import { RecurrentError } from './errors.js';
import { parameterShapes } from './parameters.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { Tokenizer, type TokenizerSpec } from './tokenizer.js';

export const CHECKPOINT_FORMAT = '2';
/** Versions this reader understands; a file of version 1 is a language model. */
const READABLE_FORMATS = ['1', '2'];
const FORMAT_KEY = 'recurrent.format';
const CONFIG_KEY = 'recurrent.config';
const TOKENIZER_KEY = 'recurrent.tokenizer';
const RESERVED = new Set([FORMAT_KEY, CONFIG_KEY, TOKENIZER_KEY]);

export interface Checkpoint {
  config: ModelConfig;
  tokenizer: TokenizerSpec;
  /** Parameters by PyTorch name, plus optional extras (`optimizer.*`, `state.*`), in file order. */
  tensors: Map<string, NamedTensor>;
  /** Every metadata entry other than the three `recurrent.format/config/tokenizer` keys. */
  metadata: Record<string, string>;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  if (c.config.vocabSize !== c.tokenizer.vocab.length) {
    throw new Error(`checkpoint: config.vocabSize ${c.config.vocabSize} differs from the vocabulary's ${c.tokenizer.vocab.length} tokens`);
  }
  // vocabSize is not stored: it is the vocabulary's length, and two copies could disagree.
  const { vocabSize: _vocabSize, ...config } = c.config;
  const metadata: Record<string, string> = {
    [FORMAT_KEY]: c.config.task === 'lm' ? '1' : CHECKPOINT_FORMAT,
    [CONFIG_KEY]: JSON.stringify(config),
    [TOKENIZER_KEY]: JSON.stringify(c.tokenizer),
  };
  for (const [k, v] of Object.entries(c.metadata)) if (!RESERVED.has(k)) metadata[k] = v;
  return encodeSafetensors([...c.tensors.values()], metadata);
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

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const format = metadata[FORMAT_KEY];
  if (format === undefined)
    throw new RecurrentError(`${source}: the metadata has no ${FORMAT_KEY}: it is not a Recurrent Studio checkpoint`);
  if (!READABLE_FORMATS.includes(format)) {
    throw new RecurrentError(
      `${source}: checkpoint format version ${JSON.stringify(format)} is unknown; this version of Recurrent Studio reads versions ${READABLE_FORMATS.join(' and ')} (update it to read newer checkpoints)`,
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
  const config = within(source, 'config', () =>
    validateModelConfig({ ...(raw as Partial<ModelConfig>), vocabSize: tokenizer.vocab.length }),
  );
  if (format === '1' && config.task !== 'lm') {
    throw new RecurrentError(`${source}: a version 1 checkpoint holds a language model, but its config says task ${config.task}`);
  }
  const describe = `${config.task === 'lm' ? '' : `task ${config.task}, ${config.labels!.length} labels, `}${config.cell}, hidden ${config.hidden}, ${config.layers} layer(s), embedding ${config.embedding}, vocabulary ${config.vocabSize}`;
  for (const p of parameterShapes(config)) {
    const t = tensors.get(p.name);
    if (t === undefined) throw new RecurrentError(`${source}: tensor ${p.name} is missing (the config, ${describe}, needs it)`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new RecurrentError(
        `${source}: tensor ${p.name} has shape [${t.shape.join(', ')}] but the config (${describe}) needs [${p.shape.join(', ')}]`,
      );
    }
  }
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!RESERVED.has(k)) rest[k] = v;
  return { config, tokenizer, tensors, metadata: rest };
}

function describeFsError(e: unknown, path: string, doing: string): never {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') throw new RecurrentError(`cannot ${doing} ${path}: its folder does not exist`);
  if (code === 'EACCES' || code === 'EPERM') throw new RecurrentError(`cannot ${doing} ${path}: permission denied`);
  if (code === 'ENOSPC') throw new RecurrentError(`cannot ${doing} ${path}: the disk is full`);
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') throw new RecurrentError(`cannot ${doing} ${path}: it is a folder`);
  throw e;
}

/**
 * Writes to a temporary file beside `path`, flushes it to disk, then renames it over `path`:
 * rename within one folder is atomic, so a crash leaves either the old file or the new one whole.
 */
export async function writeCheckpointFile(path: string, c: Checkpoint): Promise<void> {
  const bytes = encodeCheckpoint(c);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

export async function readCheckpointFile(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT') throw new RecurrentError(`no checkpoint at ${path}`);
    describeFsError(e, path, 'read the checkpoint');
  }
  return decodeCheckpoint(bytes, path);
}
