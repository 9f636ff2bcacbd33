// However fast training runs, the dashboard gets a few messages a second: worker events for a panel
// are buffered and flushed together, with runs of metrics joined into one event and superseded
// probes (gradient flow, gate probes, state) replaced by the newest.
import type { WorkerEvent } from '../protocol/messages.js';

export function coalesce(events: readonly WorkerEvent[]): WorkerEvent[] {
  const out: WorkerEvent[] = [];
  let metrics: Extract<WorkerEvent, { type: 'metrics' }> | null = null;
  let clips: Extract<WorkerEvent, { type: 'clip' }> | null = null;
  const latest = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'metrics') {
      if (metrics === null) {
        metrics = { ...e, metrics: [...e.metrics] };
        out.push(metrics);
      } else metrics.metrics.push(...e.metrics);
      continue;
    }
    if (e.type === 'clip') {
      if (clips === null) {
        clips = { ...e, clips: [...e.clips] };
        out.push(clips);
      } else clips.clips.push(...e.clips);
      continue;
    }
    const replaceable = e.type === 'gradientFlow' || e.type === 'state' || e.type === 'norms' || e.type === 'gates';
    if (replaceable) {
      const i = latest.get(e.type);
      if (i !== undefined) {
        out[i] = e;
        continue;
      }
      latest.set(e.type, out.length);
    }
    out.push(e);
  }
  return out;
}
