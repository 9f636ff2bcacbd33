// What the dashboard shows of a classify, generate or translate model's recurrent cells, measured between updates
// without changing training: the gates of every cell over one example, and how far back the gradient
// of an example's loss reaches through them.
//
// Gradient flow. classify reads one loss per example, at the state its head reads: the forward cell's
// after the last token, the reverse cell's after the first. fromLast[cell][k] is the root mean square
// over a fixed sample of examples of |dL_e/dh| k tokens before that state (forward: at position L-1-k;
// reverse: at position k), the many-to-one counterpart of the language model's |dL_T/dh_(T-k)|. generate
// keeps only each example's last loss (its end token) for the same measure. perStep is |dL/dh_p| at
// every position of one example, for its whole loss, per cell: the heatmap over the example's tokens.
// translate keeps, as generate, only the end token's loss: the decoder's curves measure back from it,
// the encoder's from the final states the decoder starts from (where all the decoder's gradient enters
// the encoder, the bottleneck of an encoder-decoder without attention); its heatmap's columns are the
// source's tokens, then the decoder's inputs, each cell's row filled where it runs. Its gates are the
// encoder's, over the source.
//
// The probes run their own network over the model's parameters (sized once, grown at most to the
// model's length limit) and restore the parameters' gradients after the backward passes they make.
import type { Cell } from './cell.js';
import type { Floats } from './floats.js';
import type { GateProbe, GradientFlow } from './measurements.js';
import type { Model } from './model.js';
import { copyGates, GATES } from './probes.js';
import { encodeKnown, type Sequences } from './taskData.js';
import { PADDING } from './conditioned.js';
import { TaskNet } from './taskNet.js';
import type { Tokenizer } from './tokenizer.js';

/** Examples the gradient-flow curves average over. */
export const FLOW_EXAMPLES = 32;
/** Longest text a probe reads when the model has no length limit. */
const PROBE_TOKENS = 1000;

/** One example as the networks read it: token ids (generate: ending with the end token) and its label id. */
export interface ProbeExample {
  ids: Int32Array;
  label: number;
  /** translate: the target's ids, ending with the end token. */
  target?: Int32Array;
}

export class TaskProbes {
  private net: TaskNet | null = null;
  private stash: Floats | null = null;
  private readonly correct = new Int32Array(1);
  private readonly generate: boolean;
  private readonly translate: boolean;
  /** Tokens a probe reads at most (generate: with the end token); longer examples are for the caller to leave out. */
  readonly limit: number;

  constructor(
    private readonly model: Model,
    private readonly tokenizer: Tokenizer,
    /** generate, translate: the end token (also the decoder's first input); classify: -1. */
    private readonly endToken: number,
    /** translate: the targets' tokenizer. */
    private readonly targetTokenizer: Tokenizer | null = null,
  ) {
    this.generate = model.config.task === 'generate';
    this.translate = model.config.task === 'translate';
    this.limit = model.config.maxLength || PROBE_TOKENS;
  }

  /** A text (generate: and a label) as an example: unknown characters left out, cut to the limit. */
  example(text: string, label: number): ProbeExample {
    const ids = encodeKnown(this.tokenizer, text, () => undefined);
    const room = this.generate ? this.limit - 1 : this.limit;
    const cut = ids.slice(0, Math.max(0, room));
    if (this.generate) cut.push(this.endToken);
    return { ids: Int32Array.from(cut), label };
  }

  /** Gate activations of every cell over one example from the zero state (generate: its label's state). */
  gates(e: ProbeExample): GateProbe {
    const net = this.netFor(e.ids.length);
    const cfg = this.model.config;
    const H = cfg.hidden;
    const t = this.load(net, [e], 1);
    const cells = this.cells(net, false);
    const names = GATES[cfg.cell];
    const layers: GateProbe['layers'] = cells.map(({ cell, layer }) => ({
      layer,
      direction: cell.reverse ? 'reverse' : 'forward',
      gates: names.map((name) => ({ name, data: new Float32Array(t * H) })),
    }));
    if (net.translator !== null) {
      const n = e.ids.length;
      for (const l of layers) for (const g of l.gates) g.data = new Float32Array(n * H);
      if (n > 0) {
        net.translator.forward(1, t);
        cells.forEach(({ cell }, i) => copyGates(cell, layers[i]!.gates, n, 0));
      }
      return { tokens: Array.from(e.ids, (id) => this.tokenizer.token(id)), layers, hidden: H };
    }
    if (t > 0) {
      if (net.classifier !== null) net.classifier.forward(1);
      else net.generator!.forward(1, t);
      cells.forEach(({ cell }, i) => copyGates(cell, layers[i]!.gates, t, 0));
    }
    // generate reads the end token first, then the text: its inputs, not its targets.
    const inputs = this.generate ? [this.endToken, ...e.ids.subarray(0, Math.max(0, e.ids.length - 1))] : Array.from(e.ids);
    const probe: GateProbe = { tokens: inputs.map((id) => this.tokenizer.token(id)), layers, hidden: H };
    if (this.generate) probe.label = this.model.config.labels![e.label]!;
    return probe;
  }

  /** How far back each example's loss reaches through the cells (see the header), and one example's |dL/dh_p|. */
  gradientFlow(sample: readonly ProbeExample[], shown: ProbeExample, step: number): GradientFlow {
    const params = this.model.params;
    const length = (e: ProbeExample): number => Math.max(e.ids.length, e.target?.length ?? 0);
    const longest = sample.reduce((m, e) => Math.max(m, length(e)), length(shown));
    const net = this.netFor(longest);
    this.stash ??= this.model.arena.floats(params.reduce((n, p) => n + p.grad.length, 0));
    const stash = this.stash;
    let o = 0;
    for (const p of params) {
      stash.set(p.grad, o);
      o += p.grad.length;
    }
    try {
      const cells = this.cells(net);
      const b = Math.min(sample.length, net.maxBatch);
      const t = this.load(net, sample, b);
      // The window each cell runs over: the decoder's is the targets', the encoder's the longest source.
      const source = sample.slice(0, b).reduce((m, e) => Math.max(m, e.ids.length), 0);
      const sums = cells.map(() => new Float64Array(longest));
      const counts = cells.map(() => new Float64Array(longest));
      if (t > 0) {
        if (this.generate || this.translate) {
          // Only the last target of each example: its end token, the loss the curve measures back from.
          const targets = (net.generator?.net ?? net.translator!.decoder).targets;
          for (let r = 0; r < b; r++) {
            const L = (sample[r]!.target ?? sample[r]!.ids).length;
            for (let p = 0; p < L - 1; p++) targets[p * b + r] = PADDING;
          }
        }
        this.model.zeroGrads();
        net.lossAndBackward(b, 1, this.correct);
        for (let r = 0; r < b; r++) {
          cells.forEach(({ cell, decoder }, c) => {
            const L = decoder ? (sample[r]!.target ?? sample[r]!.ids).length : sample[r]!.ids.length;
            const w = this.translate && !decoder ? source : t;
            for (let k = 0; k < L; k++) {
              counts[c]![k]++;
              // A reverse cell reads the example right-aligned in the window: position p is at w - L + p.
              const at = cell.reverse ? w - L + k : L - 1 - k;
              sums[c]![k] += squaredNorm(cell.dh, (at * b + r) * cell.hidden, cell.hidden);
            }
          });
        }
      }
      const fromLast = sums.map((s, c) => Float32Array.from(s, (v, k) => (counts[c]![k]! > 0 ? Math.sqrt(v / counts[c]![k]!) : 0)));
      const n = this.load(net, [shown], 1);
      const ns = this.translate ? shown.ids.length : 0;
      const perStep = cells.map(() => new Float32Array(ns + n));
      if (n > 0) {
        this.model.zeroGrads();
        net.lossAndBackward(1, 1, this.correct);
        cells.forEach(({ cell, decoder }, c) => {
          const from = this.translate && !decoder ? 0 : ns;
          const steps = this.translate && !decoder ? ns : n;
          for (let p = 0; p < steps; p++) perStep[c]![from + p] = Math.sqrt(squaredNorm(cell.dh, p * cell.hidden, cell.hidden));
        });
      }
      const bidirectional = cells.some(({ cell }) => cell.reverse);
      const name = ({ cell, layer, decoder }: (typeof cells)[number]): string =>
        `${this.translate ? (decoder ? 'decoder ' : 'encoder ') : ''}layer ${layer + 1}${bidirectional && !decoder ? (cell.reverse ? ' ←' : ' →') : ''}`;
      let tokens: string[];
      if (this.translate) {
        const target = this.targetTokenizer!;
        const inputs = [this.endToken, ...shown.target!.subarray(0, Math.max(0, n - 1))];
        tokens = [
          ...Array.from(shown.ids, (id) => this.tokenizer.token(id)),
          ...inputs.map((id) => (id === this.endToken ? '⇒' : target.token(id))),
        ];
      } else {
        const inputs = this.generate ? [this.endToken, ...shown.ids.subarray(0, Math.max(0, n - 1))] : Array.from(shown.ids);
        tokens = inputs.map((id) => this.tokenizer.token(id));
      }
      return {
        step,
        window: longest,
        fromLast,
        perStep,
        start: 0,
        curves: cells.map(name),
        tokens,
        examples: b,
      };
    } finally {
      o = 0;
      for (const p of params) {
        p.grad.set(stash.subarray(o, o + p.grad.length));
        o += p.grad.length;
      }
    }
  }

  /** The recurrent cells in order (per layer: forward, then reverse; translate: the encoder's, then the decoder's). */
  private cells(net: TaskNet, withDecoder = true): Array<{ cell: Cell; layer: number; decoder: boolean }> {
    const enc = net.classifier?.encoder ?? net.translator?.encoder;
    const encoder =
      enc === undefined
        ? []
        : enc.fwd.flatMap((cell, layer) => [
            { cell, layer, decoder: false },
            ...(enc.rev[layer] ? [{ cell: enc.rev[layer], layer, decoder: false }] : []),
          ]);
    const writer = net.generator?.net ?? (withDecoder ? net.translator?.decoder : undefined);
    return [...encoder, ...(writer?.layers.map((l, layer) => ({ cell: l.cells[0]!, layer, decoder: true })) ?? [])];
  }

  /** Loads the first b examples into the network; returns its window. */
  private load(net: TaskNet, examples: readonly ProbeExample[], b: number): number {
    const seqs: Sequences = {
      ids: examples.map((e) => e.ids),
      ...(this.translate ? { targets: examples.map((e) => e.target ?? Int32Array.of(this.endToken)) } : {}),
      labels: Int32Array.from(examples, (e) => e.label),
      lines: new Int32Array(examples.length),
      unknown: 0,
      unknownAt: [],
      unknownSymbols: new Map(),
      truncated: 0,
    };
    net.load(seqs, (i) => i, b);
    return net.window;
  }

  private netFor(steps: number): TaskNet {
    const need = Math.min(Math.max(1, steps), this.limit);
    if (this.net === null || this.net.maxSteps < need) {
      // Sized once for the model's length limit at most: an arena's buffers live as long as the model.
      const size = this.net === null ? Math.min(this.limit, Math.max(need, 64)) : this.limit;
      this.net = new TaskNet(this.model, FLOW_EXAMPLES, size, this.endToken);
    }
    return this.net;
  }
}

function squaredNorm(x: Floats, at: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += x[at + j]! * x[at + j]!;
  return s;
}
