// Requests to the worker carry an id; replies name it in `inReplyTo`. This table hands out ids, keeps
// one promise per request, feeds streamed sample chunks to the caller, and fails every pending request
// when the worker dies, so no caller waits forever on a worker that is gone.
import type { WorkerEvent } from './messages.js';
import type { RequestMethod, RequestResult } from './workerRequests.js';

interface Pending {
  method: RequestMethod;
  resolve(result: unknown): void;
  reject(err: Error): void;
  /** Streamed text before the reply (sample chunks). */
  onChunk?: ((text: string) => void) | undefined;
}

export class RequestTable {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** A new id and the promise of its reply's result; an `error` naming the id rejects it. */
  open<K extends RequestMethod>(method: K, onChunk?: (text: string) => void): { id: number; reply: Promise<RequestResult<K>> } {
    const id = this.nextId++;
    const reply = new Promise<RequestResult<K>>((resolve, reject) => {
      // The result's shape was checked against `method`'s on arrival (workerMessages.ts), and settle()
      // checks that the reply answers this method.
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject, onChunk });
    });
    return { id, reply };
  }

  /** Routes a reply, an error or a chunk to its request; false when the event answers no open request. */
  settle(e: WorkerEvent): boolean {
    if (e.type !== 'reply' && e.type !== 'error' && e.type !== 'sampleChunk') return false;
    const p = e.inReplyTo === undefined ? undefined : this.pending.get(e.inReplyTo);
    if (!p) return false;
    if (e.type === 'sampleChunk') {
      if (e.text) p.onChunk?.(e.text);
      return true;
    }
    this.pending.delete(e.inReplyTo!);
    if (e.type === 'error') p.reject(new Error(e.message));
    else if (e.method !== p.method) p.reject(new Error(`the worker answered a ${p.method} request with a ${e.method} reply`));
    else p.resolve(e.result);
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
