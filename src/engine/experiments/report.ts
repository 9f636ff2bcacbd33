// What an experiment says when its runs are done, as plain data for the command line, the dashboard and
// the README: the verdict (how the measurement sits with the theory's prediction, in one or two sentences
// with the numbers), a table and a figure, beside the concept and the prediction. Every experiment's
// verdict is a function of its plan and its runs' outcomes alone, so it is computed the same wherever
// the runs trained.
import type { RunOutcome } from './outcome.js';
import type { ExperimentName, ExperimentPlan } from './plan.js';

/** How the measurement sits with the prediction. 'inconclusive': the runs could not test it (nothing learned). */
export type Agreement = 'agrees' | 'partly' | 'disagrees' | 'inconclusive';

export interface Table {
  caption: string;
  columns: string[];
  rows: string[][];
}

export interface Figure {
  title: string;
  x: { title: string; scale: 'linear' | 'log' };
  y: { title: string; scale: 'linear' | 'log'; min?: number; max?: number };
  series: Array<{ name: string; points: Array<[number, number]> }>;
}

export interface Verdict {
  agreement: Agreement;
  summary: string;
  table: Table;
  figure: Figure | null;
}

export type RunStatus = 'waiting' | 'running' | 'done' | 'failed';

export interface ExperimentRunEntry {
  id: string;
  label: string;
  status: RunStatus;
  /** The run's id in the extension (null on the command line, or before it starts). */
  runId: string | null;
  /** Updates so far and the latest recall measured, while it trains. */
  updates: number;
  steps: number;
  accuracy: number | null;
  outcome: RunOutcome | null;
  problem: string | null;
}

export interface ExperimentReport {
  name: ExperimentName;
  title: string;
  concept: string;
  prediction: string;
  sources: string[];
  quick: boolean;
  seeds: number[];
  /** Where its data files were written. */
  folder: string;
  /** 'running' until every run has ended, then 'done' (with a verdict) or 'cancelled' (without). */
  state: 'running' | 'done' | 'cancelled';
  runs: ExperimentRunEntry[];
  /** Null until every run is done (or failed). */
  verdict: Verdict | null;
}

/** The report of a plan before any run has trained. */
export function newReport(plan: ExperimentPlan, folder: string): ExperimentReport {
  return {
    name: plan.name,
    title: plan.title,
    concept: plan.concept,
    prediction: plan.prediction,
    sources: plan.sources,
    quick: plan.quick,
    seeds: plan.seeds,
    folder,
    state: 'running',
    runs: plan.runs.map((r) => ({
      id: r.id,
      label: r.label,
      status: 'waiting',
      runId: null,
      updates: 0,
      steps: r.steps,
      accuracy: null,
      outcome: null,
      problem: null,
    })),
    verdict: null,
  };
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A count with thousands separators. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function percent(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–';
}

/** Three significant digits, exponent form for very large or small values. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return x === Infinity ? '∞' : '–';
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-2)) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}

/** The outcomes of the runs matching `factors`, in plan order. */
export function outcomesWhere(
  plan: ExperimentPlan,
  outcomes: ReadonlyMap<string, RunOutcome>,
  factors: Record<string, string | number>,
): RunOutcome[] {
  return plan.runs
    .filter((r) => Object.entries(factors).every(([k, v]) => r.factors[k] === v))
    .map((r) => outcomes.get(r.id))
    .filter((o): o is RunOutcome => o !== undefined);
}

/** The last recall measurement of a run (its accuracy at the end of training), or null. */
export function finalRecall(o: RunOutcome): RunOutcome['recall'][number] | null {
  return o.recall.at(-1) ?? null;
}
