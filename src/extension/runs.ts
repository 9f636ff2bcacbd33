// Every run of this window, newest last: which one a command means (the active file's, else the latest),
// the others for the dashboard's comparison, and disposal of all workers on deactivation.
import type { RunHistory } from '../protocol/messages.js';
import type { Run } from './run.js';

export class Runs {
  private readonly list: Run[] = [];
  private readonly listeners = new Set<() => void>();

  add(s: Run): void {
    this.list.push(s);
    this.changed();
  }

  get(runId: string): Run | undefined {
    return this.list.find((s) => s.runId === runId);
  }

  all(): readonly Run[] {
    return this.list;
  }

  /** The newest run on `file` (a URI string). */
  forFile(file: string): Run | undefined {
    return findLast(this.list, (s) => s.file === file);
  }

  /** The run a command without a target means: the active file's if it has one, else the newest alive run. */
  pick(activeFile: string | undefined, usable: (s: Run) => boolean = (s) => s.alive): Run | undefined {
    const mine = activeFile ? findLast(this.list, (s) => s.file === activeFile && usable(s)) : undefined;
    return mine ?? findLast(this.list, usable);
  }

  othersThan(runId: string): RunHistory[] {
    return this.list.filter((s) => s.runId !== runId && s.description).map((s) => s.history());
  }

  async remove(s: Run): Promise<void> {
    const i = this.list.indexOf(s);
    if (i >= 0) this.list.splice(i, 1);
    await s.dispose();
    this.changed();
  }

  onChange(l: () => void): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }

  changed(): void {
    for (const l of [...this.listeners]) l();
  }

  async disposeAll(): Promise<void> {
    const all = this.list.splice(0);
    await Promise.all(all.map((s) => s.dispose()));
  }
}

function findLast<T>(list: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return list[i];
  return undefined;
}
