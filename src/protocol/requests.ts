// Requests to the worker carry an id; replies name it in `inReplyTo`. This table hands out ids, keeps
// one promise per request, feeds streamed chunks to the caller, and fails every pending request when the
// worker dies, so no caller waits forever on a worker that is gone.
import type { WorkerEvent } from './messages.js';
import { replyTo } from './workerMessages.js';

interface Pending {
  resolve(e: WorkerEvent): void;
  reject(err: Error): void;
  /** Streaming replies (sample chunks) before the final one. */
  onPartial?: (e: WorkerEvent) => void;
  /** Which event type settles the request. */
  final: (e: WorkerEvent) => boolean;
}

export class RequestTable {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** A new id and the promise of its final reply; an `error` reply rejects it. */
  open(final: (e: WorkerEvent) => boolean, onPartial?: (e: WorkerEvent) => void): { id: number; reply: Promise<WorkerEvent> } {
    const id = this.nextId++;
    const reply = new Promise<WorkerEvent>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, final, ...(onPartial ? { onPartial } : {}) });
    });
    return { id, reply };
  }

  /** Routes a reply to its request; returns false when the event answers no open request. */
  settle(e: WorkerEvent): boolean {
    const id = replyTo(e);
    if (id === undefined) return false;
    const p = this.pending.get(id);
    if (!p) return false;
    if (e.type === 'error') {
      this.pending.delete(id);
      p.reject(new Error(e.message));
    } else if (p.final(e)) {
      this.pending.delete(id);
      p.resolve(e);
    } else {
      p.onPartial?.(e);
    }
    return true;
  }

  /** Fails every open request (the worker exited or crashed). */
  failAll(reason: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new Error(reason));
  }

  get size(): number {
    return this.pending.size;
  }
}
