// Autosaved checkpoints in the extension's workspace storage: `<runId>.safetensors` written by the
// worker, and beside it `<runId>.json` saying which file it learned, a hash of that text (exact resume
// needs the same text) and how far it got, so Load Checkpoint can list runs after VS Code restarts;
// `<runId>.history.json`, what the dashboard showed of the run up to that checkpoint, so a dashboard
// open when the window reloads comes back with it; and `live-<pid>.json`, the runs an extension host has
// live, removed when it closes cleanly, so the next one can tell runs a crash or a kill interrupted.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemporariesIn } from '../engine/checkpoint.js';
import type { RunDescription, RunHistory } from '../protocol/messages.js';

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
    await this.writeJson(`${r.runId}.json`, JSON.stringify(r, null, 1));
  }

  /** What the dashboard showed of a run when its checkpoint was saved. */
  async recordHistory(h: RunHistory): Promise<void> {
    await this.writeJson(
      `${h.runId}.history.json`,
      JSON.stringify(h, (_k, v: unknown) => (v instanceof Float32Array ? { f32: Array.from(v) } : v)),
    );
  }

  /** The history recorded with a run's checkpoint, or null when there is none (or it cannot be read). */
  async history(runId: string): Promise<RunHistory | null> {
    try {
      const text = await readFile(join(this.dir, `${runId}.history.json`), 'utf8');
      return JSON.parse(text, (_k, v: unknown) =>
        v !== null && typeof v === 'object' && Array.isArray((v as { f32?: unknown }).f32)
          ? Float32Array.from((v as { f32: number[] }).f32)
          : v,
      ) as RunHistory;
    } catch {
      return null;
    }
  }

  /** Whether the run's checkpoint file is there (a user may delete the folder at any time). */
  async hasCheckpoint(runId: string): Promise<boolean> {
    return access(this.checkpointPath(runId)).then(
      () => true,
      () => false,
    );
  }

  private async writeJson(name: string, text: string): Promise<void> {
    await this.ensure();
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
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
    for (const n of names.filter((x) => x.endsWith('.json') && !x.endsWith('.history.json') && !x.startsWith('live-'))) {
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
    await rm(join(this.dir, `${runId}.history.json`), { force: true });
    await rm(this.checkpointPath(runId), { force: true });
  }

  /** Says which runs this extension host has live (training, paused or starting); [] when none. */
  async markLive(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) await this.endLive();
    else await this.writeJson(`live-${process.pid}.json`, JSON.stringify({ pid: process.pid, runIds }));
  }

  /** The window closed cleanly: nothing of this extension host is live any more. */
  async endLive(): Promise<void> {
    await rm(join(this.dir, `live-${process.pid}.json`), { force: true });
  }

  /**
   * Runs an extension host had live when it ended without closing (killed, crashed, out of memory), with
   * the checkpoint each has on disk; their marks are removed, so each is reported once. A mark of a
   * host still running (another window of this workspace) is not touched. Also removes the temporary
   * files the hosts' killed saves left.
   */
  async interrupted(): Promise<SavedRun[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    await removeStaleTemporariesIn(this.dir);
    const ids = new Set<string>();
    for (const n of names) {
      const tmp = /\.json\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(n);
      if (tmp && !running(Number(tmp[1]))) await rm(join(this.dir, n), { force: true });
      const m = /^live-(\d+)\.json$/.exec(n);
      if (!m || Number(m[1]) === process.pid || running(Number(m[1]))) continue;
      try {
        const mark = JSON.parse(await readFile(join(this.dir, n), 'utf8')) as { runIds?: unknown };
        if (Array.isArray(mark.runIds)) for (const id of mark.runIds) if (typeof id === 'string') ids.add(id);
      } catch {
        // half written: its host died while writing it
      }
      await rm(join(this.dir, n), { force: true });
    }
    return (await this.list()).filter((r) => ids.has(r.runId));
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
