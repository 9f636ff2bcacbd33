// Every experiment by name: how to plan it and how to judge its runs. The command line and the
// extension list and run them from here.
import { RecurrentError } from '../errors.js';
import { explodingPlan, explodingVerdict } from './exploding.js';
import { gatesPlan, gatesVerdict } from './gatesAtWork.js';
import { memoryPlan, memoryVerdict } from './memoryGap.js';
import type { RunOutcome } from './outcome.js';
import type { ExperimentName, ExperimentPlan, PlanOptions } from './plan.js';
import { directionPlan, directionVerdict } from './readingDirection.js';
import type { Verdict } from './report.js';
import { truncationPlan, truncationVerdict } from './truncation.js';

export interface ExperimentDefinition {
  name: ExperimentName;
  /** The title, and one line on what it shows, for the command palette and `recurrent experiment --help`. */
  title: string;
  description: string;
  plan(o: PlanOptions): ExperimentPlan;
  verdict(plan: ExperimentPlan, outcomes: ReadonlyMap<string, RunOutcome>): Verdict;
}

export const EXPERIMENTS: readonly ExperimentDefinition[] = [
  {
    name: 'memory',
    title: 'Memory across a gap',
    description: 'RNN, GRU and LSTM of one parameter budget recall a key across gaps of 5 to 100 characters',
    plan: memoryPlan,
    verdict: memoryVerdict,
  },
  {
    name: 'truncation',
    title: 'Truncated backpropagation through time',
    description: 'the same recall with the gradient cut after k2 steps, k2 below and above the gap',
    plan: truncationPlan,
    verdict: truncationVerdict,
  },
  {
    name: 'exploding',
    title: 'Exploding gradients and clipping',
    description: 'a vanilla RNN at a learning rate that blows up without clipping, and trains with it',
    plan: explodingPlan,
    verdict: explodingVerdict,
  },
  {
    name: 'bidirectional',
    title: 'Bidirectional reading',
    description: 'a classifier names a key at the start or the end of a line, reading forward only or both ways',
    plan: directionPlan,
    verdict: directionVerdict,
  },
  {
    name: 'gates',
    title: 'Gates at work',
    description: 'which LSTM forget gates and GRU update gates hold the key across the gap once the recall is learned',
    plan: gatesPlan,
    verdict: gatesVerdict,
  },
];

export function experiment(name: string): ExperimentDefinition {
  const d = EXPERIMENTS.find((e) => e.name === name);
  if (d === undefined)
    throw new RecurrentError(
      `there is no experiment ${JSON.stringify(name)}; the experiments are ${EXPERIMENTS.map((e) => e.name).join(', ')}`,
    );
  return d;
}
