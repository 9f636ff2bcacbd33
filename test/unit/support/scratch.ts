import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A folder under the system's temporary one for a test file's files, removed when the file's tests end. Call it at module level. */
export function scratchFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `recurrent-${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
