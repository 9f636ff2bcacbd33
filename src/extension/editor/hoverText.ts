// What the hover says about one position: the model's five best guesses for it, the loss of the actual
// token in bits, the gradient that reaches it from the end of its training window, and which gates are
// pinned there. Plain Markdown built from plain data, so the unit tests read it without VS Code.
import type { CellKind } from '../../engine/config.js';
import type { GateName } from '../../engine/measurements.js';
import type { EditorProbe } from '../../protocol/messages.js';
import { natsToBits } from './heatScale.js';

/** A gate counts as saturated at a position when at least this share of its units is pinned. */
export const SATURATED_SHARE = 0.5;

export interface HoverFacts {
  token: string;
  /** -ln p(token | text before it), nats; null for the first token, which nothing predicts. */
  lossNats: number | null;
  top: Array<{ token: string; prob: number }>;
  /** Gradient reach at this position, per layer, or null when the run's engine cannot measure it. */
  reach: { norms: number[]; stepsToEnd: number; window: number } | null;
  /** Share of pinned units per gate and layer (empty for a vanilla RNN). */
  gates: Array<{ gate: GateName; layer: number; share: number }>;
  cell: CellKind;
  step: number;
  /** 'token': a character the model never saw; 'after': the token after one, read from a fresh state. */
  unseen?: 'token' | 'after';
}

/** A token as the user can read it: whitespace and control characters made visible. */
export function showToken(token: string): string {
  const shown = token
    .replace(/\r\n/g, '\u21b5')
    .replace(/[\r\n]/g, '\u21b5')
    .replace(/\t/g, '\u21e5')
    .replace(/ /g, '\u2423')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length ? shown : '\u2205';
}

/** Markdown code span that survives backticks in the token. */
function code(s: string): string {
  const ticks = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${s}${pad}${ticks}`;
}

function percent(p: number): string {
  const x = p * 100;
  return x >= 10 ? `${x.toFixed(0)}%` : x >= 1 ? `${x.toFixed(1)}%` : `${x.toPrecision(2)}%`;
}

function norm(x: number): string {
  return x === 0 ? '0' : x >= 1e-2 && x < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}

export function hoverMarkdown(f: HoverFacts): string {
  const lines: string[] = [];
  lines.push(`**Recurrent Studio** \u2014 ${code(showToken(f.token))} at update ${f.step}`);
  lines.push('');
  if (f.unseen === 'token') {
    lines.push('Never seen in training: the model has no prediction for this character, and reads on from a fresh state after it.');
  } else if (f.unseen === 'after') {
    lines.push('Follows a character the model never saw: read from a fresh state, with nothing before it to predict it from.');
  } else if (f.lossNats === null) {
    lines.push('First token: nothing before it to predict it from.');
  } else {
    const bits = natsToBits(f.lossNats);
    lines.push(
      `Loss of the actual token: **${Number.isFinite(bits) ? bits.toFixed(2) : String(bits)} bits** (p = ${percent(Math.exp(-f.lossNats))})`,
    );
    lines.push('');
    lines.push("| model's top guesses | p |");
    lines.push('| --- | ---: |');
    for (const t of f.top) {
      const mark = t.token === f.token ? ' \u2713' : '';
      lines.push(`| ${code(showToken(t.token)).replace(/\|/g, '\\|')}${mark} | ${percent(t.prob)} |`);
    }
  }
  lines.push('');
  if (f.reach) {
    const per = f.reach.norms.length > 1 ? ` (layers ${f.reach.norms.map(norm).join(', ')})` : '';
    const top = f.reach.norms.length ? f.reach.norms[0]! : 0;
    lines.push(
      `Gradient reaching here from the end of its ${f.reach.window}-step window, ${f.reach.stepsToEnd} steps later: **${norm(top)}**${per}`,
    );
  }
  if (f.cell !== 'rnn') {
    const pinned = f.gates.filter((g) => g.share >= SATURATED_SHARE).sort((a, b) => b.share - a.share);
    lines.push('');
    lines.push(
      pinned.length
        ? `Saturated gates: ${pinned.map((g) => `${g.gate} ${percent(g.share)} of units${f.gates.some((x) => x.layer > 0) ? ` (layer ${g.layer})` : ''}`).join(', ')}`
        : 'No gate saturated here.',
    );
  }
  return lines.join('\n');
}

/** The hover's facts for token `index` of an editor probe. */
export function hoverFacts(probe: EditorProbe, index: number, cell: CellKind, step: number): HoverFacts {
  const tl = probe.tokenLoss;
  const k = tl.k;
  const top: HoverFacts['top'] = [];
  // The stretch [from, to) of tokens read in one go: the whole probe unless unknown tokens cut it (EditorProbe.unknown).
  const unknown = probe.unknown ?? [];
  const unseen = unknown.includes(index) ? 'token' : unknown.includes(index - 1) ? 'after' : undefined;
  const from = unknown.reduce((s, u) => (u < index ? Math.max(s, u + 1) : s), 0);
  const to = unknown.reduce((e, u) => (u > index ? Math.min(e, u) : e), tl.tokens.length);
  if (index > 0 && unseen === undefined) {
    for (let j = 0; j < k; j++) {
      const id = tl.topIds[(index - 1) * k + j]!;
      top.push({ token: probe.topTokens[id] ?? `#${id}`, prob: tl.topProbs[(index - 1) * k + j]! });
    }
  }
  let reach: HoverFacts['reach'] = null;
  const gates: HoverFacts['gates'] = [];
  const r = probe.reach;
  if (r && unseen !== 'token' && index < to - 1) {
    const N = r.count;
    const w0 = index - ((index - from) % r.window); // windows are cut from the stretch's start
    const end = Math.min(w0 + r.window, to - 1) - 1; // the window's last position with a target
    reach = { norms: Array.from({ length: r.layers }, (_, l) => r.norms[l * N + index]!), stepsToEnd: end - index, window: r.window };
    const G = r.gates.length;
    for (let l = 0; l < r.layers; l++) {
      for (let g = 0; g < G; g++) gates.push({ gate: r.gates[g]!, layer: l, share: r.saturation[(l * G + g) * N + index]! });
    }
  }
  const lossNats = index > 0 && unseen === undefined ? tl.lossNats[index - 1]! : null;
  return { token: tl.tokens[index] ?? '', lossNats, top, reach, gates, cell, step, ...(unseen ? { unseen } : {}) };
}
