// The worker's side of the editor features: the one probe the editor asks for over the text it shows,
// the location of training windows (token offsets) in the training text's UTF-16 offsets, and the watch
// for exploding updates when clipping is off (no clip event then says which windows did it). Kept apart
// from runLoop.ts, which only routes the requests here.
import { probeGradientReach } from '../engine/gradientReach.js';
import type { ClipEvent, StepMetrics } from '../engine/measurements.js';
import { EXPLODING_FACTOR } from '../engine/thresholds.js';
import type { Trainer } from '../engine/trainer.js';
import type { EditorProbe } from '../protocol/messages.js';

/**
 * Tokens read before the first loss of each stretch of a whole file's heat (probeHeat): the context the
 * visible text's probe gets too (probeCache.ts CONTEXT_CHARS, in characters).
 */
export const HEAT_CONTEXT_TOKENS = 1000;

/** Updates whose norms make the median an unclipped update is measured against (EXPLODING_FACTOR times it). */
const RECENT = 64;
/** Fewer updates than this say nothing yet about what a normal norm is. */
const MIN_RECENT = 1;

export class EditorProbes {
  private offsets: Int32Array | null = null;
  private readonly recent: number[] = [];

  constructor(private readonly trainingText: () => string) {}

  /**
   * The editor's probe of `text`. Characters the model never saw cannot be read by it, so the text is
   * probed in stretches between them, each from a fresh state, and the pieces joined (see EditorProbe.unknown):
   * a stray symbol costs the hover and heat of itself and the token after it, not of the whole stretch.
   * Without `reach` the gradient reach is not measured (reach null): the heat needs only the losses, and
   * the reach's backward passes cost most of the probe.
   */
  probe(t: Trainer, text: string, k: number, reach = true): EditorProbe {
    // A word tokenizer maps any word to a token (the unknown one past its vocabulary): it knows every symbol.
    const knows = (symbol: string): boolean => t.tokenizer.kind !== 'char' || t.tokenizer.id(symbol) !== undefined;
    const pieces = splitAtUnknown(text, knows);
    const probe = pieces.length === 1 && pieces[0]!.known ? probeKnown(t, text, k, reach) : joinPieces(t, text, k, pieces, reach);
    const topTokens: Record<number, string> = {};
    for (const id of probe.tokenLoss.topIds) if (id >= 0 && !(id in topTokens)) topTokens[id] = t.tokenizer.token(id);
    return { ...probe, topTokens };
  }

  /** UTF-16 [start, end) of each token span [a, b) of the training text (flat pairs); -1, -1 when out of range. */
  locate(t: Trainer, spans: readonly number[]): number[] {
    this.offsets ??= t.tokenizer.encodeWithOffsets(this.trainingText()).offsets;
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
  watch(t: Trainer, m: StepMetrics): ClipEvent | null {
    const broken = !Number.isFinite(m.gradNorm) || !Number.isFinite(m.lossNats); // clipping cannot help these
    if (!broken && (t.train.clipNorm > 0 || t.train.clipValue > 0)) return null;
    const sorted = this.recent.slice().sort((a, b) => a - b);
    const spiked = broken || (sorted.length >= MIN_RECENT && m.gradNorm >= EXPLODING_FACTOR * sorted[sorted.length >> 1]!);
    if (Number.isFinite(m.gradNorm)) {
      this.recent.push(m.gradNorm);
      if (this.recent.length > RECENT) this.recent.shift();
    }
    if (!spiked) return null;
    const spans = t.lastWindows().map(([a, b]): [number, number] => [a, b]); // copied: the engine reuses its pairs
    return { step: m.step, mode: 'norm', normBefore: m.gradNorm, normAfter: m.gradNorm, spans };
  }
}

type Probed = Omit<EditorProbe, 'topTokens'>;

interface Piece {
  /** UTF-16 [from, to) in the probed text. */
  from: number;
  to: number;
  /** A stretch of known characters, or one code point the model never saw. */
  known: boolean;
}

function probeKnown(t: Trainer, text: string, k: number, reach: boolean): Probed {
  return { tokenLoss: t.probeTokenLoss(text, k), reach: reach ? probeGradientReach(t.model, t.tokenizer.encode(text), t.train.k2) : null };
}

/** Maximal stretches of known code points, and each unknown code point on its own; an empty text is one empty stretch. */
export function splitAtUnknown(text: string, knows: (symbol: string) => boolean): Piece[] {
  const pieces: Piece[] = [];
  let from = 0;
  for (let at = 0; at < text.length;) {
    const width = text.codePointAt(at)! > 0xffff ? 2 : 1;
    if (!knows(text.slice(at, at + width))) {
      if (at > from) pieces.push({ from, to: at, known: true });
      pieces.push({ from: at, to: at + width, known: false });
      from = at + width;
    }
    at += width;
  }
  if (from < text.length || pieces.length === 0) pieces.push({ from, to: text.length, known: true });
  return pieces;
}

/**
 * One probe of the whole text from probes of its known stretches. Token g of the joined probe is token j
 * of its stretch; lossNats[g-1] and topIds[g-1] are the stretch's [j-1] for j >= 1, and "no prediction"
 * (NaN, -1) at a stretch's first token and at an unknown one. Reach: each stretch is cut into windows from
 * its own start, which the hover knows from `unknown`.
 */
function joinPieces(t: Trainer, text: string, k: number, pieces: Piece[], withReach: boolean): Probed {
  const parts = pieces.map((p) => (p.known ? probeKnown(t, text.slice(p.from, p.to), k, withReach) : null));
  const N = pieces.reduce((n, p, i) => n + (p.known ? parts[i]!.tokenLoss.tokens.length : 1), 0);
  const someKnown = parts.find((x) => x !== null) ?? null;
  const K = someKnown ? someKnown.tokenLoss.k : 0;
  const tokens: string[] = [];
  const offsets = new Int32Array(N + 1);
  const lossNats = new Float32Array(Math.max(0, N - 1)).fill(NaN);
  const topIds = new Int32Array(Math.max(0, N - 1) * K).fill(-1);
  const topProbs = new Float32Array(Math.max(0, N - 1) * K);
  const firstReach = someKnown?.reach ?? null;
  const L = firstReach?.layers ?? 0;
  const gates = firstReach?.gates ?? [];
  const G = gates.length;
  const norms = new Float32Array(L * N); // [L, N]
  const saturation = new Float32Array(L * G * N); // [L, G, N]
  let window = 1;
  const unknown: number[] = [];
  let g = 0;
  pieces.forEach((piece, i) => {
    const part = parts[i];
    if (!part) {
      unknown.push(g);
      tokens.push(text.slice(piece.from, piece.to));
      offsets[g] = piece.from;
      g++;
      return;
    }
    const tl = part.tokenLoss;
    const n = tl.tokens.length;
    for (let j = 0; j < n; j++) {
      tokens.push(tl.tokens[j]!);
      offsets[g + j] = piece.from + tl.offsets[j]!;
      if (j === 0) continue;
      lossNats[g + j - 1] = tl.lossNats[j - 1]!;
      topIds.set(tl.topIds.subarray((j - 1) * K, j * K), (g + j - 1) * K);
      topProbs.set(tl.topProbs.subarray((j - 1) * K, j * K), (g + j - 1) * K);
    }
    const r = part.reach;
    if (r) {
      window = Math.max(window, r.window);
      for (let l = 0; l < L; l++) {
        norms.set(r.norms.subarray(l * n, (l + 1) * n), l * N + g);
        for (let q = 0; q < G; q++) saturation.set(r.saturation.subarray((l * G + q) * n, (l * G + q + 1) * n), (l * G + q) * N + g);
      }
    }
    g += n;
  });
  offsets[N] = text.length;
  return {
    tokenLoss: { tokens, offsets, lossNats, k: K, topIds, topProbs },
    reach: withReach ? { window, layers: L, count: N, norms, gates, saturation } : null,
    unknown,
  };
}
