// The worker's side of the editor features (issue 6): the one probe the editor asks for over the text
// it shows, the location of training windows (token offsets) in the training text's UTF-16 offsets, and
// the watch for exploding updates when clipping is off (no clip event then says which windows did it).
// Kept apart from trainingSession.ts, which only routes the commands here.
import type { EditorProbe } from '../protocol/messages.js';
import type { ClipEvent, StepMetrics } from '../engine/measurements.js';
import type { TrainerLike } from './engineApi.js';

/** An unclipped update is reported when its norm is this many times the median of the recent ones (the editor's EXPLODING_FACTOR). */
export const SPIKE_FACTOR = 10;
const RECENT = 64;
/** Fewer updates than this say nothing yet about what a normal norm is. */
const MIN_RECENT = 1;

export class EditorProbes {
  private offsets: Int32Array | null = null;
  private readonly recent: number[] = [];

  constructor(private readonly trainingText: () => string) {}

  probe(t: TrainerLike<unknown>, text: string, k: number): EditorProbe {
    const tokenLoss = t.probeTokenLoss(text, k);
    const reach = t.probeGradientReach ? t.probeGradientReach(text) : null;
    const topTokens: Record<number, string> = {};
    for (const id of tokenLoss.topIds) if (!(id in topTokens)) topTokens[id] = t.tokenText ? t.tokenText(id) : `#${id}`;
    return { tokenLoss, reach, topTokens };
  }

  /** UTF-16 [start, end) of each token span [a, b) of the training text (flat pairs); -1, -1 when out of range. */
  locate(t: TrainerLike<unknown>, spans: readonly number[]): number[] {
    if (!this.offsets) {
      const text = this.trainingText();
      this.offsets = t.tokenOffsets ? t.tokenOffsets(text) : codePointOffsets(text);
    }
    const off = this.offsets;
    const last = off.length - 1;
    const out: number[] = [];
    for (let i = 0; i + 1 < spans.length; i += 2) {
      const a = spans[i]!;
      const b = spans[i + 1]!;
      if (!(a >= 0 && b >= a && b <= last)) out.push(-1, -1);
      else out.push(off[a]!, off[b]!);
    }
    return out;
  }

  /**
   * After each update: an update whose loss or norm is not finite, or, with clipping off, whose norm
   * spiked, comes back as a clip-like event with the windows that produced it, so the editor can place the explosion.
   */
  watch(t: TrainerLike<unknown>, m: StepMetrics): ClipEvent | null {
    const broken = !Number.isFinite(m.gradNorm) || !Number.isFinite(m.lossNats); // clipping cannot help these
    if (!broken && (t.train.clipNorm > 0 || t.train.clipValue > 0)) return null;
    const sorted = this.recent.slice().sort((a, b) => a - b);
    const spiked = broken || (sorted.length >= MIN_RECENT && m.gradNorm >= SPIKE_FACTOR * sorted[sorted.length >> 1]!);
    if (Number.isFinite(m.gradNorm)) {
      this.recent.push(m.gradNorm);
      if (this.recent.length > RECENT) this.recent.shift();
    }
    if (!spiked) return null;
    const spans = t.lastWindows ? t.lastWindows() : (t.lastClip()?.spans ?? []);
    return { step: m.step, mode: 'norm', normBefore: m.gradNorm, normAfter: m.gradNorm, spans };
  }
}

/** Char-token offsets when the engine does not say: one token per code point. */
function codePointOffsets(text: string): Int32Array {
  const out: number[] = [];
  for (let at = 0; at < text.length; at += (text.codePointAt(at)! > 0xffff ? 2 : 1)) out.push(at);
  out.push(text.length);
  return Int32Array.from(out);
}
