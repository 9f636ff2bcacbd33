// Experiment 5, gates at work: an LSTM and a GRU learn the recall task (as in experiment 1, through the
// same curriculum of gaps), then their gates are read over held-out recall lines (gateHolding.ts): does
// a unit keep its forget gate (LSTM) or update gate (GRU) open from the key to the mark while its state
// names the key? The dashboard's Gates view shows the heatmap over one recall line.
import type { CellKind } from '../config.js';
import { HOLD_KEEP, HOLD_SELECTIVE } from './gateHolding.js';
import { curriculumRuns, MEMORY_CELLS, RECALLED } from './memoryGap.js';
import type { RunOutcome } from './outcome.js';
import type { ExperimentPlan, PlanOptions } from './plan.js';
import { count, finalRecall, median, num, outcomesWhere, percent, type Verdict } from './report.js';

const FULL = { gaps: [5, 10, 20], steps: 2000 };
const QUICK = { gaps: [2, 4], steps: 40 };

export const GATES_CONCEPT =
  'A gated cell decides at every step how much of its state to keep. The LSTM keeps its cell state where the forget gate f is near 1 (c_t = f c_(t-1) + i g) and the GRU its hidden state where the update gate z is near 1 (h_t = (1 - z) n + z h_(t-1)). Holding a key across a gap should look like a few units whose keeping gate stays open from the key to the moment it is needed, while their state still says which key it was; along those units the gradient crosses the gap too.';

export const GATES_PREDICTION =
  'Once the recall is learned, some units keep their forget (LSTM) or update (GRU) gate open across the gap and hold the key in their state (Hochreiter & Schmidhuber 1997; Gers, Schmidhuber & Cummins 2000; Cho et al. 2014).';

export function gatesPlan(o: PlanOptions): ExperimentPlan {
  const size = o.quick ? QUICK : FULL;
  const cells = MEMORY_CELLS.filter((c) => c.cell !== 'rnn');
  const { files, runs } = curriculumRuns({ quick: o.quick, seeds: o.seeds, gaps: size.gaps, steps: size.steps, cells, gatesAtLast: true });
  return {
    name: 'gates',
    title: 'Gates at work',
    concept: GATES_CONCEPT,
    prediction: GATES_PREDICTION,
    sources: [
      'Hochreiter & Schmidhuber (1997), Long short-term memory',
      'Gers, Schmidhuber & Cummins (2000), Learning to forget: continual prediction with LSTM',
      'Cho et al. (2014), Learning phrase representations using RNN encoder-decoder for statistical machine translation',
    ],
    quick: o.quick,
    seeds: o.seeds,
    files,
    runs,
  };
}

export function gatesVerdict(plan: ExperimentPlan, outcomes: ReadonlyMap<string, RunOutcome>): Verdict {
  const gap = Math.max(...plan.runs.map((r) => Number(r.factors.gap)));
  const cells = [...new Set(plan.runs.map((r) => String(r.factors.cell)))] as CellKind[];
  const last = (cell: string): RunOutcome[] => outcomesWhere(plan, outcomes, { cell, gap });
  const label = (cell: string): string => plan.runs.find((r) => r.factors.cell === cell)!.label.split(' · ')[0]!;
  const rows = cells.map((cell) => {
    const os = last(cell);
    const g = os.map((o) => o.gates).filter((x) => x !== null);
    const first = g[0];
    return [
      label(cell),
      percent(median(os.map((o) => finalRecall(o)?.accuracy ?? NaN))),
      first ? `${first.gate} (state ${first.state})` : '–',
      g.length ? String(median(g.map((x) => x.holding.length))) : '–',
      first ? first.holding.slice(0, 6).join(', ') + (first.holding.length > 6 ? ', …' : '') || 'none' : '–',
      g.length ? num(median(g.map((x) => x.meanGateHolding))) : '–',
      g.length ? num(median(g.map((x) => x.meanGateAll))) : '–',
    ];
  });
  const table = {
    caption: `At gap ${gap}, after the curriculum: units that hold the key (keeping gate's product over the gap at least ${HOLD_KEEP}, and at least ${percent(HOLD_SELECTIVE)} of their state's variance at the mark between keys)`,
    columns: [
      'cell',
      'keys recalled',
      'keeping gate',
      'units holding',
      'which (seed ' + plan.seeds[0] + ')',
      'mean gate over the gap, holding units',
      'all units',
    ],
    rows,
  };
  const learned = cells.filter((c) => median(last(c).map((o) => finalRecall(o)?.accuracy ?? NaN)) >= RECALLED);
  const holds = (c: CellKind): boolean => median(last(c).map((o) => o.gates?.holding.length ?? 0)) > 0;
  const agreeing = learned.filter(holds);
  const agreement =
    learned.length === 0 ? 'inconclusive' : agreeing.length === cells.length ? 'agrees' : agreeing.length > 0 ? 'partly' : 'disagrees';
  const said = cells
    .map((c) => {
      const os = last(c);
      const acc = median(os.map((o) => finalRecall(o)?.accuracy ?? NaN));
      const n = median(os.map((o) => o.gates?.holding.length ?? 0));
      const gate = os[0]?.gates?.gate ?? '';
      return `the ${label(c)} recalled ${percent(acc)} with ${n} unit${n === 1 ? '' : 's'} holding the key behind an open ${gate} gate (mean ${num(median(os.map((o) => o.gates?.meanGateHolding ?? NaN)))} over the gap, against ${num(median(os.map((o) => o.gates?.meanGateAll ?? NaN)))} for all units)`;
    })
    .join('; ');
  const verdicts = {
    agrees: 'as the theory pictures it, each gated cell holds the key in a few units whose keeping gate stays open across the gap.',
    partly: `only the ${agreeing.map((c) => c.toUpperCase()).join(' and ')} held the key that way.`,
    disagrees: 'the recall was learned, but no unit held the key behind an open gate: the state carries it some other way.',
    inconclusive: `neither cell learned the recall at gap ${gap} in ${count(median(plan.runs.map((r) => r.steps)))} updates per gap, so there is no held key to look for.`,
  };
  return { agreement, summary: `${said}: ${verdicts[agreement]}`, table, figure: null };
}
