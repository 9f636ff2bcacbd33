// `recurrent experiment NAME`: writes the experiment's data files into a folder, trains its runs one after
// another (the same plans, trackers and verdicts as Recurrent: New Experiment... in VS Code), and prints
// what they measured beside what the theory predicts; report.json beside the data keeps it all.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_THREADS } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { EXPERIMENT_THREADS } from '../engine/experiments/plan.js';
import { EXPERIMENTS, experiment } from '../engine/experiments/registry.js';
import { newReport, type ExperimentReport, type Table } from '../engine/experiments/report.js';
import { runPlan } from '../engine/experiments/runner.js';
import { intOption, parse, stringOption } from './args.js';
import { formatCount, formatDuration } from './format.js';
import { Progress } from './progress.js';

export const EXPERIMENT_USAGE = `usage: recurrent experiment NAME [options]

experiments
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(12)}${e.title}: ${e.description}`).join('\n')}

options
  --quick                   a small version that runs in seconds (for a first look and for tests)
  --seeds LIST              seeds to repeat the runs with, e.g. 1,2,3; tables show medians (default 1)
  --dir DIR                 where the data files and report.json go (default experiments/NAME)
  --threads N               threads per run (default ${EXPERIMENT_THREADS}: the same count gives the same numbers everywhere)
  --json                    print the report as JSON on stdout instead of the table`;

const OPTIONS = {
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  seeds: { type: 'string' },
  dir: { type: 'string' },
  threads: { type: 'string' },
} as const;

function seedList(s: string | undefined): number[] {
  if (s === undefined) return [1];
  const seeds = s.split(',').map((x) => x.trim());
  if (seeds.some((x) => !/^\d+$/.test(x)) || seeds.length === 0)
    throw new RecurrentError(`--seeds must be whole numbers separated by commas, such as 1,2,3; got ${JSON.stringify(s)}`);
  const out = [...new Set(seeds.map(Number))];
  if (out.some((x) => x > 0xffffffff)) throw new RecurrentError(`--seeds must be at most ${0xffffffff}`);
  return out;
}

export async function experimentCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...OPTIONS }, ['name']);
  const def = experiment(positionals[0]!);
  const threads = intOption(values, 'threads', 1, MAX_THREADS) ?? EXPERIMENT_THREADS;
  const plan = def.plan({ quick: values.quick === true, seeds: seedList(stringOption(values, 'seeds')) });
  const dir = stringOption(values, 'dir') ?? join('experiments', def.name);
  try {
    mkdirSync(dir, { recursive: true });
    for (const f of plan.files) writeFileSync(join(dir, f.name), f.text);
  } catch (e) {
    throw new RecurrentError(`cannot write the experiment's data into ${dir}: ${(e as Error).message}`);
  }
  const err = process.stderr;
  err.write(`${plan.title}: ${plan.runs.length} runs${plan.quick ? ' (quick)' : ''}, data in ${dir}\n`);

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const progress = new Progress(err);
  const report = newReport(plan, dir);
  const started = Date.now();
  let runStarted = Date.now();
  const line = (i: number, label: string, update: number, steps: number, accuracy: number | null): string =>
    `run ${i + 1}/${plan.runs.length} ${label}: update ${formatCount(update)}/${formatCount(steps)}` +
    (accuracy !== null ? `  recalled ${Math.round(accuracy * 100)}%` : '') +
    `  ${formatDuration(Date.now() - runStarted)}`;
  let outcomes;
  try {
    outcomes = await runPlan(plan, threads, {
      started: (run) => {
        runStarted = Date.now();
        report.runs.find((r) => r.id === run.id)!.status = 'running';
      },
      updated: (run, update, last) => progress.update(line(plan.runs.indexOf(run), run.label, update, run.steps, last?.accuracy ?? null)),
      finished: (run, outcome) => {
        const r = report.runs.find((x) => x.id === run.id)!;
        r.status = 'done';
        r.outcome = outcome;
        const acc = outcome.recall.at(-1)?.accuracy;
        progress.print(
          `run ${plan.runs.indexOf(run) + 1}/${plan.runs.length} ${run.label}: ${formatCount(outcome.updates)} updates in ${formatDuration(outcome.ms)}` +
            (outcome.nonFiniteAt !== null ? `, loss not finite at update ${formatCount(outcome.nonFiniteAt)}` : '') +
            (acc !== undefined ? `, recalled ${Math.round(acc * 100)}%` : '') +
            (outcome.validationBits !== null
              ? `, held out ${outcome.validationBits.toFixed(3)} bits/${run.model.task === 'classify' ? 'line' : 'char'}`
              : ''),
        );
      },
      breathe: () => new Promise((r) => setImmediate(r)),
      stopping: () => interrupted,
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress.clear();
  }
  for (const r of report.runs) if (r.status === 'running') r.status = 'failed';
  report.state = interrupted ? 'cancelled' : 'done';
  if (interrupted) {
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 1));
    err.write(`interrupted after ${formatDuration(Date.now() - started)}: no verdict; what ran is in ${join(dir, 'report.json')}\n`);
    return 130;
  }
  report.verdict = def.verdict(plan, outcomes);
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 1));
  err.write(`done in ${formatDuration(Date.now() - started)}; report in ${join(dir, 'report.json')}\n`);
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
  return 0;
}

/** The report as terminal text: the prediction, the table, the verdict. */
export function formatReport(r: ExperimentReport): string {
  const v = r.verdict;
  const lines = [`${r.title}${r.quick ? ' (quick)' : ''}`, '', `Theory: ${r.prediction}`, ''];
  if (v) {
    lines.push(...formatTable(v.table), '', `Measured (${v.agreement}): ${v.summary}`);
  }
  return lines.join('\n') + '\n';
}

export function formatTable(t: Table): string[] {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((row) => (row[i] ?? '').length)));
  const row = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [t.caption, row(t.columns), row(widths.map((w) => '-'.repeat(w))), ...t.rows.map(row)];
}
