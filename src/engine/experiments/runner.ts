// Runs an experiment's plan in this thread, one run after another, each on its trainer with its
// tracker (tracker.ts): what the command line does, and what the tests check against the extension's
// runs. A run continuing a curriculum starts from the weights its predecessor ended with.
import type { Checkpoint } from '../checkpoint.js';
import { TaskTrainer, taskModelOptions } from '../taskTrainer.js';
import { Trainer } from '../trainer.js';
import type { RunOutcome } from './outcome.js';
import type { ExperimentPlan, ExperimentRun } from './plan.js';
import type { RecallMeasure } from './recallProbe.js';
import { prepareTrainer, RunTracker, type ExperimentTrainer } from './tracker.js';

export interface RunnerEvents {
  started?(run: ExperimentRun, index: number): void;
  /** After each update (cheap: the runner calls it with the update count). */
  updated?(run: ExperimentRun, update: number, lastMeasure: RecallMeasure | null): void;
  finished?(run: ExperimentRun, outcome: RunOutcome): void;
  /** Called every ~50 ms of training so the caller can let other work through (and stop the runner). */
  breathe?(): Promise<void>;
  /** True when the caller wants the runner to stop after the current update. */
  stopping?(): boolean;
}

export async function runPlan(plan: ExperimentPlan, threads: number, on: RunnerEvents = {}): Promise<Map<string, RunOutcome>> {
  const outcomes = new Map<string, RunOutcome>();
  const needed = new Set(plan.runs.map((r) => r.from).filter((f): f is string => f !== undefined));
  const ends = new Map<string, Checkpoint>();
  for (const [i, run] of plan.runs.entries()) {
    if (on.stopping?.()) break;
    const text = plan.files.find((f) => f.name === run.file)?.text;
    if (text === undefined) throw new Error(`experiment ${plan.name}: run ${run.id} trains on ${run.file}, which the plan does not write`);
    const t = newTrainer(run, text, threads);
    try {
      prepareTrainer(t, run, run.from !== undefined ? (ends.get(run.from) ?? null) : null);
      on.started?.(run, i);
      const tracker = new RunTracker(run, t);
      let last = tracker.begin();
      let breath = performance.now();
      let stopped = false;
      while (t.updates < run.steps) {
        if (on.stopping?.()) {
          stopped = true;
          break;
        }
        const m = t.step();
        last = tracker.afterStep(m) ?? last;
        if (!Number.isFinite(m.lossNats)) break;
        on.updated?.(run, t.updates, last);
        if (on.breathe && performance.now() - breath > 50) {
          await on.breathe();
          breath = performance.now();
        }
      }
      const outcome = tracker.finish(stopped ? { stopped: 'stopped' } : {});
      outcomes.set(run.id, outcome);
      if (needed.has(run.id) && t.model.parametersFinite()) ends.set(run.id, t.toCheckpoint());
      on.finished?.(run, outcome);
    } finally {
      t.close();
    }
  }
  return outcomes;
}

/** A run's trainer: a language model's, or a classifier's on its task file, as the worker's engine makes them. */
function newTrainer(run: ExperimentRun, text: string, threads: number): ExperimentTrainer {
  const m = run.model;
  if (m.task === 'lm') return Trainer.create(text, m, { ...run.train, threads }, run.tokenizer);
  if (m.task !== 'classify')
    throw new Error(`experiment run ${run.id}: the experiments train language models and classifiers, not ${m.task}`);
  return TaskTrainer.create(text, run.file, {
    task: 'classify',
    model: taskModelOptions(m),
    train: { ...run.train, threads },
    tokenizer: run.tokenizer,
  });
}
