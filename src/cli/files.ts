// The user's files, checked before any work starts: every failure becomes one line that names the file
// and the problem. A text may be a regular file or a stream (a pipe, `/dev/stdin`, `<(cat f)`), read
// to its end within a size limit; where a checkpoint goes (--out) is checked for what writing it there
// would do, so a run never trains for an hour and then cannot save, or replaces a file that is not a checkpoint.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { readCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';

export const MAX_TEXT_BYTES = 512 * 1024 * 1024;
/** Streams are read in chunks of this size, each checked for NUL bytes as it comes. */
const CHUNK_BYTES = 1 << 20;

/** One line for a failed open or read of `path`. */
function readError(e: unknown, path: string): RecurrentError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ENOTDIR'
          ? 'a part of its path is not a folder'
          : code === 'EISDIR'
            ? 'it is a folder'
            : ((e as Error).message ?? String(e));
  return new RecurrentError(`cannot read ${path}: ${why}`);
}

/** A text file, or a stream read to its end, as a string; refused when empty, binary, too large or not UTF-8. */
export async function readTextFile(path: string): Promise<string> {
  return decodeText(await readBytes(path), path);
}

async function readBytes(path: string): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    // A socket cannot be opened by name: stdin a program set up as one (ssh, a Node parent) is read as it is.
    if ((e as NodeJS.ErrnoException).code === 'ENXIO' && isStdinName(path)) return readAll(process.stdin, path, false);
    throw readError(e, path);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new RecurrentError(`${path} is a directory, not a text file`);
    if (info.isFile() && info.size > MAX_TEXT_BYTES) throw tooLarge(path, info.size);
    return await readAll(handle.createReadStream({ autoClose: false, highWaterMark: CHUNK_BYTES }), path, info.isFile());
  } catch (e) {
    throw e instanceof RecurrentError ? e : readError(e, path);
  } finally {
    await handle.close();
  }
}

function decodeText(bytes: Uint8Array, path: string): string {
  if (bytes.length === 0)
    throw new RecurrentError(
      `${path} is empty: there is nothing to learn from${isStreamName(path) ? ' (nothing came through the pipe)' : ''}`,
    );
  if (bytes.includes(0)) throw binary(path);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RecurrentError(`${path} is not valid UTF-8 text; convert it to UTF-8 first`);
  }
}

/**
 * Reads to the end, a chunk at a time: a regular file, or a stream refused once it passes the limit or
 * shows a NUL byte, so `/dev/zero` or an endless pipe is refused at its first chunk instead of filling memory.
 */
async function readAll(chunks: AsyncIterable<Uint8Array>, path: string, regular: boolean): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    if (!regular && chunk.includes(0)) throw binary(path);
    total += chunk.length;
    if (total > MAX_TEXT_BYTES) throw tooLarge(path, total, !regular);
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function tooLarge(path: string, bytes: number, stream = false): RecurrentError {
  const mib = MAX_TEXT_BYTES / 2 ** 20;
  return new RecurrentError(
    stream
      ? `${path} goes on past ${mib} MiB, the limit for a text; train on a part of it (e.g. head -c 100M)`
      : `${path} is ${(bytes / 2 ** 20).toFixed(0)} MiB; the limit is ${mib} MiB`,
  );
}

function binary(path: string): RecurrentError {
  return new RecurrentError(`${path} looks binary (it contains NUL bytes); train on a text file`);
}

/** Names a shell gives a stream: `/dev/stdin`, `/dev/fd/63` from `<(…)`, `/proc/self/fd/0`. */
function isStreamName(path: string): boolean {
  return /^\/(dev\/(stdin|fd\/\d+)|proc\/self\/fd\/\d+)$/.test(path);
}

function isStdinName(path: string): boolean {
  return /^\/(dev\/(stdin|fd\/0)|proc\/self\/fd\/0)$/.test(path);
}

/** Whether `path` is a pipe or a device rather than a file (then it has no name to call a checkpoint after). */
export async function isStream(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return !info.isFile() && !info.isDirectory();
  } catch {
    return false;
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/**
 * What writing a checkpoint to `out` would do, refused before training when it is wrong: a folder, a
 * device or a pipe; one of the run's own inputs (the training text, whose bytes the checkpoint would
 * replace); or an existing file that is not a checkpoint (replaced only with `force`). The folder's
 * existence, permissions and free space are writeCheckpointFile's to check (checkCheckpointTarget).
 */
export async function checkOutputFile(out: string, inputs: { path: string; what: string }[], force: boolean): Promise<void> {
  const target = await statOrNull(out);
  if (target === null) return;
  if (target.isDirectory())
    throw new RecurrentError(`--out ${out} is a folder; name a file in it, such as ${out.replace(/\/+$/, '')}/model.safetensors`);
  if (!target.isFile()) throw new RecurrentError(`--out ${out} is a device or a pipe, not a file a checkpoint can replace`);
  for (const input of inputs) {
    const s = await statOrNull(input.path);
    if (s !== null && s.isFile() && s.dev === target.dev && s.ino === target.ino) {
      throw new RecurrentError(`--out ${out} is ${input.what}: the checkpoint would replace it; choose another --out`);
    }
  }
  if (force) return;
  try {
    await readCheckpointFile(out, { tensors: 'none' });
  } catch (e) {
    if (!(e instanceof RecurrentError)) throw e;
    throw new RecurrentError(
      `--out ${out} exists and is not a checkpoint, and the checkpoint would replace it: choose another --out, or add --force to replace it`,
    );
  }
}
