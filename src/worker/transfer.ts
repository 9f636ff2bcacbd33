// Large arrays (gate heatmaps, gradient flow, the editor's per-token losses) cross to the extension as transferred
// buffers, not structured-clone copies. Transferring detaches a buffer on this side, so each array is
// first copied into a buffer of its own: the engine keeps its scratch space, and a view into a larger
// buffer never hands the whole buffer away.
import type { WorkerEvent } from '../protocol/messages.js';

export type Transfer = ArrayBuffer[];

/** Events whose payload holds typed arrays; the rest are small and cloned. */
const CARRIES_ARRAYS = new Set<WorkerEvent['type']>(['gradientFlow', 'gates', 'reply']);

/** Replaces every typed array in the event by an owned copy and returns the buffers to transfer. */
export function transferablesOf(event: WorkerEvent): Transfer {
  if (!CARRIES_ARRAYS.has(event.type)) return [];
  const out: Transfer = [];
  own(event as unknown as Record<string, unknown>, out, 0);
  return out;
}

function own(node: Record<string, unknown> | unknown[], out: Transfer, depth: number): void {
  if (depth > 8) return;
  for (const key of Object.keys(node)) {
    const value = (node as Record<string, unknown>)[key];
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const copy = (value as unknown as { slice(): ArrayBufferView }).slice();
      (node as Record<string, unknown>)[key] = copy;
      out.push(copy.buffer as ArrayBuffer);
    } else if (typeof value === 'object' && value !== null) {
      own(value as Record<string, unknown>, out, depth + 1);
    }
  }
}
