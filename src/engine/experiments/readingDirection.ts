// Experiment 4, bidirectional (Schuster & Paliwal 1997), as many-to-one: a classifier names the key of a
// line (keyedExamples.ts) read forward only or in both directions, the key at the start of the line or at
// its end. The classifier's head reads each direction's final state (PyTorch's h_n): the forward cell's
// after the last symbol, the reverse cell's after the first. A key at the end is the forward reader's
// last step; a key at the start is the step it must carry across the whole line, where the reverse reader
// meets it last. The two models have about the same number of parameters (the bidirectional one two
// cells of fewer units) and train the same number of updates on the same lines.
import { validateTrainConfig, type CellKind } from '../config.js';
import { keyedExamples, type KeyPlace } from './keyedExamples.js';
import type { RunOutcome } from './outcome.js';
import type { DataFile, ExperimentPlan, ExperimentRun, PlanOptions } from './plan.js';
import { RECALL_KEYS } from './recallData.js';
import { count, finalRecall, median, outcomesWhere, percent, type Verdict } from './report.js';

/** A reader knows the key when it names at least this share of held-out lines: half, four times chance. */
export const KNOWN = 0.5;

const PLACES: readonly KeyPlace[] = ['start', 'end'];

// The vanilla RNN: the cell whose carrying fails soonest (experiment 1), so that the gap can be short.
// Forward 96 units against two cells of 64: 13,448 and 13,832 parameters on the 34 symbols.
const FULL = {
  gap: 40,
  cell: 'rnn' as CellKind,
  forward: 96,
  both: 64,
  lines: 2048,
  heldOut: 256,
  steps: 800,
  batch: 32,
  every: 200,
  lr: 5e-3,
};
const QUICK = {
  gap: 6,
  cell: 'rnn' as CellKind,
  forward: 16,
  both: 10,
  lines: 256,
  heldOut: 64,
  steps: 60,
  batch: 16,
  every: 30,
  lr: 1e-2,
};

export const DIRECTION_CONCEPT =
  'A recurrent network reads a sequence in one direction, so its state at a step holds only what came before. A bidirectional network runs a second cell from the end backwards and puts the two side by side: at every step it has what came before and what comes after. A classifier reads the final states, the forward cell’s after the last symbol and the reverse cell’s after the first, so what the forward reader must carry across the whole sequence, what stood at its start, is the reverse reader’s last and freshest step.';

export const DIRECTION_PREDICTION =
  'Where the label is decided at the far end from the forward reader’s output (the start of the line) and the gap is longer than a vanilla RNN can carry, the forward-only classifier stays near chance while the bidirectional one, reading that end last with its reverse cell, names the label; with the key at the end both do (Schuster & Paliwal 1997).';

export function directionPlan(o: PlanOptions): ExperimentPlan {
  const size = o.quick ? QUICK : FULL;
  const files: DataFile[] = [];
  const runs: ExperimentRun[] = [];
  const many = o.seeds.length > 1;
  for (const seed of o.seeds) {
    for (const place of PLACES) {
      const file = `key-at-${place}-gap-${size.gap}${many ? `-seed-${seed}` : ''}.tsv`;
      files.push({ name: file, text: keyedExamples(size.gap, place, size.lines + size.heldOut, seed) });
      for (const both of [false, true]) {
        const hidden = both ? size.both : size.forward;
        runs.push({
          id: `${both ? 'both' : 'forward'}-${place}-seed${seed}`,
          label: `${size.cell.toUpperCase()} ${hidden}${both ? ' × 2, bidirectional' : ', forward'} · key at the ${place}${many ? ` · seed ${seed}` : ''}`,
          file,
          model: { task: 'classify', cell: size.cell, hidden, layers: 1, embedding: 0, bidirectional: both, pooling: 'last', maxLength: 0 },
          tokenizer: 'char',
          train: validateTrainConfig({
            batch: size.batch,
            valShare: size.heldOut / (size.lines + size.heldOut),
            evalEvery: 0,
            lr: size.lr,
            seed,
          }),
          steps: size.steps,
          probe: { kind: 'heldOut', every: size.every },
          factors: { place, direction: both ? 'both' : 'forward', seed, gap: size.gap },
        });
      }
    }
  }
  return {
    name: 'bidirectional',
    title: 'Bidirectional reading',
    concept: DIRECTION_CONCEPT,
    prediction: DIRECTION_PREDICTION,
    sources: ['Schuster & Paliwal (1997), Bidirectional recurrent neural networks'],
    quick: o.quick,
    seeds: o.seeds,
    files,
    runs,
  };
}

/** Four standard errors of the difference of two shares of n lines: a gap that seed noise hardly makes. */
function clearlyAbove(a: number, b: number, n: number): boolean {
  const se = Math.sqrt((a * (1 - a) + b * (1 - b)) / Math.max(1, n));
  return a - b > Math.max(4 * se, 1 / n);
}

export function directionVerdict(plan: ExperimentPlan, outcomes: ReadonlyMap<string, RunOutcome>): Verdict {
  const acc = (place: KeyPlace, direction: 'forward' | 'both'): number =>
    median(outcomesWhere(plan, outcomes, { place, direction }).map((o) => finalRecall(o)?.accuracy ?? NaN));
  const lines = median([...outcomes.values()].map((o) => finalRecall(o)?.lines ?? NaN));
  const label = (direction: 'forward' | 'both'): string => plan.runs.find((r) => r.factors.direction === direction)!.label.split(' · ')[0]!;
  const params = (direction: 'forward' | 'both'): number =>
    median(outcomesWhere(plan, outcomes, { direction }).map((o) => o.parameterCount));
  const gap = Number(plan.runs[0]!.factors.gap);
  const seeds = plan.seeds.length > 1 ? `, medians of ${plan.seeds.length} seeds` : '';
  const table = {
    caption: `Held-out lines whose key the classifier names after ${count(median(plan.runs.map((r) => r.steps)))} updates, ${gap} distractors beside the key (chance is 1 in ${RECALL_KEYS.length})${seeds}`,
    columns: ['reader', 'parameters', 'key at the start', 'key at the end'],
    rows: (['forward', 'both'] as const).map((d) => [label(d), count(params(d)), percent(acc('start', d)), percent(acc('end', d))]),
  };
  const figure = {
    title: 'Held-out keys named as the runs train',
    x: { title: 'update', scale: 'linear' as const },
    y: { title: 'share of held-out keys named', scale: 'linear' as const, min: 0, max: 1 },
    series: plan.runs
      .filter((r) => r.factors.seed === plan.seeds[0])
      .map((r) => ({
        name: r.label,
        points: (outcomes.get(r.id)?.recall ?? []).map((m): [number, number] => [m.step, m.accuracy]),
      })),
  };
  const fs = acc('start', 'forward');
  const bs = acc('start', 'both');
  const fe = acc('end', 'forward');
  const be = acc('end', 'both');
  const all = [fs, bs, fe, be];
  const missing = all.some((x) => Number.isNaN(x));
  const wins = clearlyAbove(bs, fs, lines) && bs >= KNOWN;
  // The control: with the key at the end both read it last, so a win at the start is the direction's, not the size's.
  const control = fe >= KNOWN && be >= KNOWN;
  const agreement: Verdict['agreement'] =
    missing || all.every((x) => x < KNOWN) ? 'inconclusive' : wins && control && fs < KNOWN ? 'agrees' : wins ? 'partly' : 'disagrees';
  const verdicts = {
    agrees:
      'as the theory predicts, reading both ways named the key the forward reader could not carry, and with the key at the end both named it.',
    partly: !control
      ? 'the bidirectional reader won with the key at the start, but with the key at the end, which both read last, not both named it: the win is not the reading direction’s alone.'
      : `the bidirectional reader named more keys at the start, but the forward reader also carried the key across ${gap} steps.`,
    disagrees:
      'the bidirectional reader did not name clearly more keys at the start than the forward reader: the theory’s prediction did not show in this budget.',
    inconclusive: missing
      ? 'a run is missing, so there is nothing to compare.'
      : 'no reader learned to name the key, so these runs cannot test the prediction.',
  };
  const summary = `With the key at the start of ${gap} distractors, the forward reader named ${percent(fs)} of the held-out keys and the bidirectional one ${percent(bs)}; with the key at the end, ${percent(fe)} and ${percent(be)} (chance is 1 in ${RECALL_KEYS.length}, ${count(lines)} held-out lines): ${verdicts[agreement]}`;
  return { agreement, summary, table, figure };
}
