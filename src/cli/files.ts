// Reading the user's files: every failure becomes one line that names the file and the problem.
import { readFileSync, statSync } from 'node:fs';
import { RecurrentError } from '../engine/errors.js';

const MAX_TEXT_BYTES = 512 * 1024 * 1024;

export function readTextFile(path: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new RecurrentError(`${path} is a directory, not a text file`);
    size = st.size;
  } catch (e) {
    if (e instanceof RecurrentError) throw e;
    throw new RecurrentError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (size === 0) throw new RecurrentError(`${path} is empty: there is nothing to learn from`);
  if (size > MAX_TEXT_BYTES)
    throw new RecurrentError(`${path} is ${(size / 2 ** 20).toFixed(0)} MiB; the limit is ${MAX_TEXT_BYTES / 2 ** 20} MiB`);
  const bytes = readFileSync(path);
  if (bytes.includes(0)) throw new RecurrentError(`${path} looks binary (it contains NUL bytes); train on a text file`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RecurrentError(`${path} is not valid UTF-8 text; convert it to UTF-8 first`);
  }
}
