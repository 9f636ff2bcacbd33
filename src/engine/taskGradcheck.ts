// gradcheck.ts for the task networks: every parameter tensor's gradient of the summed loss of a padded
// batch (examples of different lengths, an empty one for classify and translate's sources) against
// fourth-order central finite differences in float64.
import type { ModelConfig } from './config.js';
import { relativeError, type GradcheckResult, type TensorCheck } from './gradcheck.js';
import { Model } from './model.js';
import { Rng } from './rng.js';
import type { Sequences } from './taskData.js';
import { TaskNet } from './taskNet.js';

/** The end token of the task's outputs in these checks: the last of its vocabulary. */
export function checkEndToken(config: ModelConfig): number {
  return (config.task === 'translate' ? config.targetVocabSize! : config.vocabSize) - 1;
}

/**
 * Random examples of these lengths over tokens 0..V-2; generate's end with token V-1, its end token.
 * translate: sources of these lengths, and targets of these lengths in reverse order plus the end token.
 */
export function randomSequences(config: ModelConfig, lengths: readonly number[], seed: number): Sequences {
  const rng = new Rng(seed);
  const V = config.vocabSize;
  const generate = config.task === 'generate';
  const ids = lengths.map((n) => {
    const s = Int32Array.from({ length: n }, () => rng.int(generate ? V - 1 : V));
    if (generate && n > 0) s[n - 1] = V - 1;
    return s;
  });
  let translation = {};
  if (config.task === 'translate') {
    const end = checkEndToken(config);
    const references = lengths.map((_, i) => Int32Array.from({ length: lengths[lengths.length - 1 - i]! }, () => rng.int(end)));
    translation = { references, targets: references.map((r) => Int32Array.from([...r, end])) };
  }
  const K = config.labels?.length ?? 1;
  return {
    ids,
    ...translation,
    labels: Int32Array.from(lengths, () => rng.int(K)),
    lines: new Int32Array(lengths.length),
    unknown: 0,
    unknownAt: [],
    unknownSymbols: new Map(),
    truncated: 0,
  };
}

export function taskGradcheck(config: ModelConfig, opts: { lengths: readonly number[]; seed: number; epsilon?: number }): GradcheckResult {
  const model = Model.create(config, opts.seed, 'f64');
  const seqs = randomSequences(config, opts.lengths, opts.seed);
  const b = seqs.ids.length;
  const net = new TaskNet(model, b, Math.max(1, ...opts.lengths) + 1, checkEndToken(config));
  const loss = (backward: boolean): number => {
    net.load(seqs, (r) => r, b);
    if (!backward) return net.loss(b);
    model.zeroGrads();
    return net.lossAndBackward(b, 1, new Int32Array(1));
  };
  loss(true);
  const analytic = model.params.map((p) => Float64Array.from(p.grad));
  const eps = opts.epsilon ?? 1e-3;
  const tensors: TensorCheck[] = model.params.map((p, k) => {
    const check: TensorCheck = { name: p.name, checked: p.data.length, worstRelError: 0, worstIndex: -1, analytic: 0, numeric: 0 };
    for (let i = 0; i < p.data.length; i++) {
      const w = p.data[i]!;
      const at = (d: number): number => {
        p.data[i] = w + d;
        return loss(false);
      };
      const numeric = (8 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) / (12 * eps);
      p.data[i] = w;
      const err = relativeError(analytic[k]![i]!, numeric);
      if (err > check.worstRelError || check.worstIndex < 0)
        Object.assign(check, { worstRelError: err, worstIndex: i, analytic: analytic[k]![i]!, numeric });
    }
    return check;
  });
  const worst = tensors.reduce((a, c) => (c.worstRelError > a.worstRelError ? c : a));
  return { tensors, worstRelError: worst.worstRelError, worstTensor: worst.name };
}
