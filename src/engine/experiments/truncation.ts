// Experiment 2, truncated backpropagation through time (Williams & Peng 1990): the recall task at one gap,
// learned with TBPTT(k1, k2): an update every k1 characters, the gradient flowing back k2 steps, the state
// carried across windows as a stream reads on. The key reaches the recall through the carried state
// whatever k2 is, but the gradient of the recall's loss reaches the key only when both lie in one window:
// k2 of at least gap + 2 (and gap + 1 + k1 for every recall the window's loss covers).
import { validateTrainConfig, type CellKind } from '../config.js';
import type { RunOutcome } from './outcome.js';
import type { ExperimentPlan, ExperimentRun, PlanOptions } from './plan.js';
import { recallCorpus, RECALL_KEYS } from './recallData.js';
import { count, finalRecall, median, num, outcomesWhere, percent, type Verdict } from './report.js';

const FULL = {
  gap: 10,
  k1: 4,
  k2s: [4, 8, 12, 16, 24],
  cell: 'rnn' as CellKind,
  hidden: 136,
  steps: 3000,
  batch: 32,
  perStream: 64,
  heldOut: 256,
  every: 250,
  lr: 3e-3,
};
const QUICK = {
  gap: 3,
  k1: 2,
  k2s: [2, 8],
  cell: 'rnn' as CellKind,
  hidden: 24,
  steps: 40,
  batch: 8,
  perStream: 16,
  heldOut: 32,
  every: 20,
  lr: 1e-2,
};
const CHANCE = 1 / RECALL_KEYS.length;

export const TRUNCATION_CONCEPT =
  'Backpropagation through a whole text is too long to run, so training cuts it: truncated BPTT(k1, k2) makes an update every k1 steps and follows the gradient back only k2 steps, while the forward pass carries the state on from window to window. The network still reads everything before; what it can no longer do is learn from anything further back than k2 steps, since no gradient connects a loss to an input beyond the cut.';

export const TRUNCATION_PREDICTION =
  'A dependency longer than the truncation cannot be learned: with k2 below the gap the recall stays at chance however long it trains; once k2 spans the gap it is learned (Williams & Peng 1990).';

export function truncationPlan(o: PlanOptions): ExperimentPlan {
  const size = o.quick ? QUICK : FULL;
  const files = [];
  const runs: ExperimentRun[] = [];
  for (const seed of o.seeds) {
    const corpus = recallCorpus(size.gap, { batch: size.batch, perStream: size.perStream, heldOut: size.heldOut, seed });
    const file = o.seeds.length > 1 ? `gap-${size.gap}-seed-${seed}.txt` : `gap-${size.gap}.txt`;
    files.push({ name: file, text: corpus.text });
    for (const k2 of size.k2s) {
      runs.push({
        id: `k2-${k2}-seed${seed}`,
        label: `${size.cell.toUpperCase()} ${size.hidden} · k1 ${size.k1}, k2 ${k2}${o.seeds.length > 1 ? ` · seed ${seed}` : ''}`,
        file,
        model: { task: 'lm', cell: size.cell, hidden: size.hidden, layers: 1, embedding: 0, bidirectional: false },
        tokenizer: 'char',
        // Streams read on with the state carried, as any truncated run does; restarts as the default.
        train: validateTrainConfig({ batch: size.batch, k1: size.k1, k2, valShare: corpus.valShare, evalEvery: 0, lr: size.lr, seed }),
        steps: size.steps,
        probe: { kind: 'recall', gap: size.gap, lines: corpus.heldOut, every: size.every },
        factors: { k2, seed, gap: size.gap },
      });
    }
  }
  return {
    name: 'truncation',
    title: 'Truncated backpropagation through time',
    concept: TRUNCATION_CONCEPT,
    prediction: TRUNCATION_PREDICTION,
    sources: ['Williams & Peng (1990), An efficient gradient-based algorithm for on-line training of recurrent network trajectories'],
    quick: o.quick,
    seeds: o.seeds,
    files,
    runs,
  };
}

export function truncationVerdict(plan: ExperimentPlan, outcomes: ReadonlyMap<string, RunOutcome>): Verdict {
  const gap = Number(plan.runs[0]!.factors.gap);
  const k1 = plan.runs[0]!.train.k1;
  const k2s = [...new Set(plan.runs.map((r) => Number(r.factors.k2)))].sort((a, b) => a - b);
  const acc = (k2: number): number => median(outcomesWhere(plan, outcomes, { k2 }).map((o) => finalRecall(o)?.accuracy ?? NaN));
  const share = (k2: number): number => median(outcomesWhere(plan, outcomes, { k2 }).map((o) => finalRecall(o)?.keyShare ?? NaN));
  // The gradient of a recall's loss reaches its key only if the window holds both: k2 >= gap + 2.
  const spans = (k2: number): boolean => k2 >= gap + 2;
  const below = k2s.filter((k) => !spans(k));
  const above = k2s.filter(spans);
  const updates = median(plan.runs.map((r) => r.steps));
  const seeds = plan.seeds.length > 1 ? `, medians of ${plan.seeds.length} seeds` : '';
  const table = {
    caption: `Keys recalled on held-out lines after ${count(updates)} updates of TBPTT(k1 = ${k1}, k2) at gap ${gap}${seeds}`,
    columns: ['k2', 'window holds key and recall', 'keys recalled', 'recall gradient at the key (share)'],
    rows: k2s.map((k2) => [
      String(k2),
      spans(k2) ? (k2 >= gap + 1 + k1 ? 'always' : 'for some recalls') : 'never',
      percent(acc(k2)),
      num(share(k2)),
    ]),
  };
  const figure = {
    title: `Keys recalled against k2 (gap ${gap})`,
    x: { title: 'k2: steps the gradient flows back', scale: 'linear' as const },
    y: { title: 'share of held-out keys recalled', scale: 'linear' as const, min: 0, max: 1 },
    series: [
      {
        name: `${plan.runs[0]!.label.split(' · ')[0]}`,
        points: k2s.map((k2): [number, number] => [k2, acc(k2)]).filter(([, y]) => Number.isFinite(y)),
      },
    ],
  };
  // The claim is whether a dependency can be learned at all, not how well in this budget: a k2 learned the
  // recall when it names more keys than guessing could, four standard errors of chance over the held-out lines.
  const probe = plan.runs[0]!.probe;
  const lines = probe?.kind === 'recall' ? probe.lines.length : 1;
  const aboveChance = CHANCE + 4 * Math.sqrt((CHANCE * (1 - CHANCE)) / lines);
  const nearChance = (x: number): boolean => x < aboveChance;
  const belowAtChance = below.every((k) => nearChance(acc(k)));
  const aboveLearned = above.filter((k) => !nearChance(acc(k)));
  const agreement =
    above.length === 0 || below.length === 0
      ? 'inconclusive'
      : aboveLearned.length === 0
        ? 'inconclusive'
        : belowAtChance && aboveLearned.length === above.length
          ? 'agrees'
          : belowAtChance || aboveLearned.length > 0
            ? 'partly'
            : 'disagrees';
  const list = (ks: number[]): string => ks.map((k) => `${k} (${percent(acc(k))})`).join(', ');
  const verdicts = {
    agrees: `as predicted: below the gap the recall stayed at chance, and every k2 that spans it learned it.`,
    partly: belowAtChance
      ? `below the gap the recall stayed at chance, but not every k2 that spans it learned it in ${count(updates)} updates.`
      : `a k2 below the gap learned more than chance: the carried state let some of the recall through without a gradient to shape it.`,
    disagrees: `the truncation did not decide what was learned.`,
    inconclusive: `no k2 learned the recall in ${count(updates)} updates, so these runs cannot test the prediction.`,
  };
  const summary = `Held-out keys recalled with k2 below the gap of ${gap}: ${list(below)}; with k2 spanning it: ${list(above)} (chance is 1 in ${RECALL_KEYS.length}; above ${percent(aboveChance)} of ${count(lines)} lines is more than guessing): ${verdicts[agreement]}`;
  return { agreement, summary, table, figure };
}
