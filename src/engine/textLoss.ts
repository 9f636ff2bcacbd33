// The loss of every token of a whole text (the editor's loss heat of a file of megabytes), computed in
// parallel streams instead of one token after another: the text is cut into stretches, each read by one
// stream from a zero state starting `context` tokens before it, and the streams run side by side through
// a trainer's networks (and its training threads), a window at a time. A token's loss so depends on at
// least `context` tokens before it (or on all of them, near the start), as the editor's probe of the
// visible text does (probeCache.ts's CONTEXT_CHARS), and a stretch's cut costs `context` extra steps.
//
// Ids of -1 are tokens the model cannot read (characters it never saw): no prediction of them or from
// them (NaN), and the text after one is read afresh, as editorProbes.ts does for the visible text.
import type { Model } from './model.js';
import type { BatchSplit } from './replicas.js';
import type { Unrolled } from './unroll.js';

/** Runs windows of per-position loss: the part of a trainer that textLoss needs. */
export interface LossWindows {
  /** Streams a window runs side by side, and its most steps. */
  readonly streams: number;
  readonly steps: number;
  /**
   * One window of t steps: ids and targets [t, streams] step-major; streams with fresh[s] start from a zero
   * state, the others where their last window ended; each position's loss in nats into out [t, streams].
   */
  run(ids: Int32Array, targets: Int32Array, fresh: Uint8Array, t: number, out: Float32Array): void;
}

/** The windows of a trainer's networks: its training thread's own and, while they run, its training threads'. */
export function trainerLossWindows(model: Model, net: Unrolled, split: BatchSplit | null): LossWindows {
  const mainB = net.maxBatch;
  const T = net.maxSteps;
  const H = model.config.hidden;
  const state = model.arena.floats(net.stateSize(mainB));
  const perRow = model.arena.floats(mainB * T);
  const blocks = state.length / (mainB * H);
  const threaded = (): boolean => split !== null && !split.isClosed;
  return {
    get streams() {
      return threaded() ? split!.batch : mainB;
    },
    steps: T,
    run(ids, targets, fresh, t, out) {
      const S = this.streams;
      if (threaded()) split!.startLosses(ids, targets, fresh, t);
      for (let p = 0; p < t; p++) {
        net.ids.set(ids.subarray(p * S, p * S + mainB), p * mainB);
        net.targets.set(targets.subarray(p * S, p * S + mainB), p * mainB);
      }
      for (let s = 0; s < mainB; s++) {
        if (fresh[s] === 0) continue;
        for (let k = 0; k < blocks; k++) state.fill(0, (k * mainB + s) * H, (k * mainB + s + 1) * H);
      }
      net.setState(state, mainB, t);
      net.forward(mainB, t);
      net.decode(mainB, t, 0);
      net.loss(mainB, t, 0, perRow, 0);
      net.getState(state, mainB, t, t);
      for (let p = 0; p < t; p++) out.set(perRow.subarray(p * mainB, (p + 1) * mainB), p * S);
      if (threaded()) split!.finishLosses(out, t);
    },
  };
}

/** One stretch of predictions: positions [from, to) are predicted (targets from+1 .. to), reading from `read`. */
interface Stretch {
  read: number;
  from: number;
  to: number;
}

/**
 * The loss of every token of ids but the first, computed window by window so that a caller can stop
 * between windows (run(untilMs)) and answer other requests: lossNats[i - 1] is -ln p(token i) in nats,
 * NaN where there is no prediction (the first token after an unreadable one, and the unreadable one).
 */
export class TextLoss {
  readonly lossNats: Float32Array;
  private readonly ids: Int32Array;
  private readonly windows: LossWindows;
  private readonly S: number;
  private readonly T: number;
  /** Each stream's stretches, in order, and where it is in them. */
  private readonly queues: Stretch[][];
  /** Each stream's current stretch, and the next position it reads (-1: the stretch has not started). */
  private readonly cursor: Array<{ job: number; at: number }>;
  private readonly winIds: Int32Array;
  private readonly winTargets: Int32Array;
  private readonly winLoss: Float32Array;
  private readonly fresh: Uint8Array;
  /** Per (step, stream) of the current window: the position whose loss it is, or -1 to drop it. */
  private readonly record: Int32Array;
  private done = false;

  constructor(ids: Int32Array, windows: LossWindows, context: number) {
    this.ids = ids;
    this.windows = windows;
    this.S = windows.streams;
    this.T = windows.steps;
    this.lossNats = new Float32Array(Math.max(0, ids.length - 1)).fill(NaN);
    this.queues = plan(ids, this.S, context);
    this.cursor = this.queues.map(() => ({ job: 0, at: -1 }));
    this.winIds = new Int32Array(this.S * this.T);
    this.winTargets = new Int32Array(this.S * this.T);
    this.winLoss = new Float32Array(this.S * this.T);
    this.record = new Int32Array(this.S * this.T);
    this.fresh = new Uint8Array(this.S);
  }

  /** Streams the work was planned for: a trainer whose threads ended since needs a new TextLoss. */
  get streams(): number {
    return this.S;
  }

  /** Runs windows until every loss is known (returns true) or `untilMs` (performance.now()) has passed. */
  run(untilMs = Infinity): boolean {
    while (!this.done) {
      this.window();
      if (performance.now() >= untilMs) break;
    }
    return this.done;
  }

  private window(): void {
    const { S, T, ids } = this;
    let t = 0;
    this.record.fill(-1);
    this.winIds.fill(0);
    this.winTargets.fill(0);
    for (let s = 0; s < S; s++) {
      const q = this.queues[s]!;
      const c = this.cursor[s]!;
      this.fresh[s] = 0;
      if (c.job >= q.length) continue;
      const job = q[c.job]!;
      if (c.at < 0) {
        c.at = job.read;
        this.fresh[s] = 1;
      }
      // A stretch starts on a window's first step (its state is zeroed there); the steps after its end are idle.
      const n = Math.min(T, job.to - c.at);
      for (let p = 0; p < n; p++) {
        const pos = c.at + p;
        this.winIds[p * S + s] = ids[pos]!;
        this.winTargets[p * S + s] = ids[pos + 1]!;
        if (pos >= job.from) this.record[p * S + s] = pos;
      }
      t = Math.max(t, n);
      c.at += n;
      if (c.at >= job.to) {
        c.job++;
        c.at = -1;
      }
    }
    if (t === 0) {
      this.done = true;
      return;
    }
    this.windows.run(this.winIds, this.winTargets, this.fresh, t, this.winLoss);
    for (let i = 0; i < t * S; i++) {
      const pos = this.record[i]!;
      if (pos >= 0) this.lossNats[pos] = this.winLoss[i]!;
    }
  }
}

/**
 * The stretches of predictions, dealt to S streams: every run of readable tokens is cut into stretches
 * of about the same length (as many as keep every stream busy), each reading `context` tokens before
 * its first prediction, and each stream takes the next stretch when its last one is done.
 */
function plan(ids: Int32Array, S: number, context: number): Stretch[][] {
  const runs: Array<[number, number]> = [];
  for (let a = 0; a < ids.length;) {
    if (ids[a]! < 0) {
      a++;
      continue;
    }
    let b = a;
    while (b < ids.length && ids[b]! >= 0) b++;
    // positions a .. b-2 predict tokens a+1 .. b-1
    if (b - a >= 2) runs.push([a, b - 1]);
    a = b;
  }
  const predictions = runs.reduce((n, [a, b]) => n + b - a, 0);
  // Long enough that the context read before each stretch stays a small part of it.
  const length = Math.max(Math.ceil(predictions / S), 4 * context, 256);
  const stretches: Stretch[] = [];
  for (const [a, b] of runs) {
    for (let from = a; from < b; from += length)
      stretches.push({ read: Math.max(a, from - context), from, to: Math.min(b, from + length) });
  }
  // Longest first to the least loaded stream: the streams end close together.
  const queues: Stretch[][] = Array.from({ length: S }, () => []);
  const load = new Float64Array(S);
  for (const st of stretches.sort((x, y) => y.to - y.read - (x.to - x.read))) {
    let best = 0;
    for (let s = 1; s < S; s++) if (load[s]! < load[best]!) best = s;
    queues[best]!.push(st);
    load[best] = load[best]! + (st.to - st.read);
  }
  return queues;
}

/** A whole text's loss under way, run a slice at a time between other work. */
export interface TextHeat {
  /** Each token's id (negative: a character the model cannot read) and UTF-16 start, the text's end last. */
  readonly ids: Int32Array;
  readonly offsets: Int32Array;
  /** Runs windows until `untilMs` (performance.now()) has passed or the text is done; true once every loss is in lossNats. */
  run(untilMs: number): boolean;
  readonly lossNats: Float32Array;
}

/**
 * The loss of every token of an encoded text on the networks `windows()` gives at each slice: training
 * threads that ended since the last one (the run finished) leave fewer streams, and it starts over on the rest.
 */
export function textHeat(encoded: { ids: Int32Array; offsets: Int32Array }, windows: () => LossWindows, context: number): TextHeat {
  const { ids, offsets } = encoded;
  let job: TextLoss | null = null;
  return {
    ids,
    offsets,
    run(untilMs) {
      const w = windows();
      if (job === null || job.streams !== w.streams) job = new TextLoss(ids, w, context);
      return job.run(untilMs);
    },
    get lossNats() {
      if (job === null) throw new Error('textHeat: no window has run yet');
      return job.lossNats;
    },
  };
}
