// Autosaved checkpoints in the extension's workspace storage: `<runId>.safetensors` written by the
// worker, and beside it `<runId>.json` saying which file it learned, a hash of that text (exact resume
// needs the same text) and how far it got, so Load Checkpoint can list runs after VS Code restarts.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunDescription } from '../protocol/messages.js';

export interface SavedRun {
  runId: string;
  label: string;
  /** URI of the trained file. */
  file: string;
  textSha256: string;
  textLength: number;
  step: number;
  savedAt: string;
  run: RunDescription | null;
}

export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class CheckpointStore {
  constructor(readonly dir: string) {}

  checkpointPath(runId: string): string {
    return join(this.dir, `${runId}.safetensors`);
  }

  async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Writes the description atomically (temp file and rename), like the checkpoint itself. */
  async record(r: SavedRun): Promise<void> {
    await this.ensure();
    const path = join(this.dir, `${r.runId}.json`);
    await writeFile(path + '.tmp', JSON.stringify(r, null, 1));
    await rename(path + '.tmp', path);
  }

  /** Runs with a checkpoint on disk, newest first; unreadable descriptions are skipped. */
  async list(): Promise<SavedRun[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SavedRun[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      try {
        const r = JSON.parse(await readFile(join(this.dir, n), 'utf8')) as SavedRun;
        if (typeof r.runId === 'string' && names.includes(`${r.runId}.safetensors`) && r.step > 0) out.push(r);
      } catch {
        // a half-written or foreign file: not a run
      }
    }
    return out.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
  }

  async forget(runId: string): Promise<void> {
    await rm(join(this.dir, `${runId}.json`), { force: true });
    await rm(this.checkpointPath(runId), { force: true });
  }
}
