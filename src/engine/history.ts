// A run's history as its checkpoints carry it (`recurrent.history`, docs/checkpoint-format.md): where it
// trained (segments: here, or PyTorch's train.py on some processes and devices) and its curves, so a run
// continued elsewhere comes back as one curve with the part trained here. The training curve keeps at
// most HISTORY_POINTS points: the updates whose number is a multiple of `stride`, which doubles (dropping
// every other point) whenever the list fills, so a run of any length keeps evenly spaced points and the
// two programs that extend it (this one and the exported train.py) keep the same ones. Recording
// allocates nothing: the columns are allocated once.
import type { StepMetrics, ValidationMetrics } from './measurements.js';

export const HISTORY_KEY = 'recurrent.history';
export const HISTORY_VERSION = 1;
export const HISTORY_POINTS = 2048;

/** Updates [from, to) trained by one program; `by` names it, the other fields say where it ran. */
export interface Segment {
  by: string;
  from: number;
  to: number;
  [detail: string]: string | number;
}

const COLUMNS = ['step', 'tokens', 'lossNats', 'lr', 'gradNorm', 'clipped', 'elapsedMs', 'tokensPerSecond'] as const;
type Column = (typeof COLUMNS)[number];

interface Encoded {
  version: number;
  stride: number;
  segments: Segment[];
  metrics: Record<Column, number[]>;
  validation: { step: number[]; lossNats: number[]; tokens: number[] };
}

export class History {
  private stride = 1;
  private n = 0;
  private readonly columns = Object.fromEntries(COLUMNS.map((c) => [c, new Float64Array(HISTORY_POINTS)])) as Record<Column, Float64Array>;
  private validation: ValidationMetrics[] = [];
  private segmentList: Segment[] = [];
  private current: Segment | null = null;

  /**
   * The history a checkpoint holds. One that is absent, unreadable or of another version starts empty:
   * it describes the run, and the run trains the same without it.
   */
  static parse(raw: string | undefined): History {
    const h = new History();
    if (raw === undefined) return h;
    let e: Partial<Encoded>;
    try {
      e = JSON.parse(raw) as Partial<Encoded>;
    } catch {
      return h;
    }
    if (e?.version !== HISTORY_VERSION || !Number.isSafeInteger(e.stride) || e.stride! < 1) return h;
    const m = e.metrics;
    const steps = m?.step;
    if (!Array.isArray(steps) || !COLUMNS.every((c) => Array.isArray(m![c]) && m![c].length === steps.length)) return h;
    h.stride = e.stride!;
    const keep = Math.min(steps.length, HISTORY_POINTS - 1);
    for (const c of COLUMNS) h.columns[c].set(m![c].slice(steps.length - keep).map(Number));
    h.n = keep;
    const v = e.validation;
    if (v && Array.isArray(v.step) && Array.isArray(v.lossNats) && Array.isArray(v.tokens)) {
      h.validation = v.step.map((step, i) => {
        const lossNats = Number(v.lossNats[i]);
        return { step: Number(step), lossNats, bitsPerToken: lossNats / Math.LN2, tokens: Number(v.tokens[i]) };
      });
    }
    if (Array.isArray(e.segments))
      h.segmentList = e.segments.filter((s) => typeof s?.by === 'string' && Number.isFinite(s.from) && Number.isFinite(s.to));
    return h;
  }

  /**
   * Training goes on at `update` in the program `segment` describes: the last segment goes on if it is
   * the same program and ends at this update, else a new one starts.
   */
  begin(segment: { by: string; [detail: string]: string | number }, update: number): void {
    const last = this.segmentList.at(-1);
    const same = (s: Segment): boolean => {
      const { from: _from, to: _to, ...rest } = s;
      const keys = Object.keys(rest);
      return keys.length === Object.keys(segment).length && keys.every((k) => rest[k] === segment[k]);
    };
    if (last !== undefined && last.to === update && same(last)) this.current = last;
    else {
      this.current = { ...segment, from: update, to: update };
      this.segmentList.push(this.current);
    }
  }

  /** After a successful update (m.step updates done): keeps it if its number is a multiple of the stride. */
  record(m: StepMetrics): void {
    if (m.step % this.stride !== 0) return;
    const c = this.columns;
    const i = this.n++;
    c.step[i] = m.step;
    c.tokens[i] = m.tokens;
    c.lossNats[i] = m.lossNats;
    c.lr[i] = m.lr;
    c.gradNorm[i] = m.gradNorm;
    c.clipped[i] = m.clipped ? 1 : 0;
    c.elapsedMs[i] = m.elapsedMs;
    c.tokensPerSecond[i] = m.tokensPerSecond;
    if (this.n < HISTORY_POINTS) return;
    this.stride *= 2;
    let kept = 0;
    for (let j = 0; j < this.n; j++) {
      if (c.step[j]! % this.stride !== 0) continue;
      for (const col of COLUMNS) c[col][kept] = c[col][j]!;
      kept++;
    }
    this.n = kept;
  }

  /** A validation result; a second one at the same update replaces the first. */
  recordValidation(v: ValidationMetrics): void {
    if (v.tokens === 0) return;
    if (this.validation.at(-1)?.step === v.step) this.validation.pop();
    this.validation.push({ ...v });
    if (this.validation.length >= HISTORY_POINTS) this.validation = this.validation.filter((_, i) => i % 2 === 1);
  }

  get segments(): readonly Segment[] {
    return this.segmentList;
  }

  /** The kept training points, oldest first. */
  metrics(): StepMetrics[] {
    const c = this.columns;
    return Array.from({ length: this.n }, (_, i) => ({
      step: c.step[i]!,
      tokens: c.tokens[i]!,
      lossNats: c.lossNats[i]!,
      bitsPerToken: c.lossNats[i]! / Math.LN2,
      lr: c.lr[i]!,
      gradNorm: c.gradNorm[i]!,
      clipped: c.clipped[i] === 1,
      elapsedMs: c.elapsedMs[i]!,
      tokensPerSecond: c.tokensPerSecond[i]!,
    }));
  }

  validations(): ValidationMetrics[] {
    return this.validation.map((v) => ({ ...v }));
  }

  /** The JSON a checkpoint stores; the current segment ends at `update`. */
  encode(update: number): string {
    if (this.current !== null) this.current.to = update;
    const c = this.columns;
    const e: Encoded = {
      version: HISTORY_VERSION,
      stride: this.stride,
      segments: this.segmentList,
      metrics: Object.fromEntries(COLUMNS.map((col) => [col, Array.from(c[col].subarray(0, this.n))])) as Record<Column, number[]>,
      validation: {
        step: this.validation.map((v) => v.step),
        lossNats: this.validation.map((v) => v.lossNats),
        tokens: this.validation.map((v) => v.tokens),
      },
    };
    return JSON.stringify(e);
  }
}

/** Where a segment trained, for people: "Recurrent Studio", "PyTorch 1.13.0 (train.py), 2 cuda processes on 2 nodes, bf16". */
export function describeSegment(s: Segment): string {
  if (s.by === 'recurrent-studio') return 'Recurrent Studio';
  if (s.by !== 'pytorch') return String(s.by);
  const processes = Number(s.processes) || 1;
  const nodes = Number(s.nodes) || 1;
  return (
    `PyTorch${s.torch ? ` ${s.torch}` : ''} (train.py), ${processes} ${s.device ?? ''} process${processes === 1 ? '' : 'es'}`.replace(
      '  ',
      ' ',
    ) +
    (nodes > 1 ? ` on ${nodes} nodes` : '') +
    (s.precision && s.precision !== 'fp32' ? `, ${s.precision}` : '')
  );
}

/**
 * Where a run trained, for people, when it is more than one stretch here: "updates 0-500 in Recurrent
 * Studio · 500-1,500 in PyTorch ... · 1,500- here"; null for a run trained here alone.
 */
export function describeSegments(segments: readonly Segment[]): string | null {
  if (segments.length === 0 || (segments.length === 1 && segments[0]!.by === 'recurrent-studio')) return null;
  const n = (x: number): string => x.toLocaleString('en-US');
  return segments
    .map((s, i) =>
      i === segments.length - 1 && s.by === 'recurrent-studio'
        ? `updates ${n(s.from)}- here`
        : `updates ${n(s.from)}-${n(s.to)} in ${describeSegment(s)}`,
    )
    .join(' · ');
}
