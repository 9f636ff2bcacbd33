// An experiment's runs give the same numbers wherever they train: twice in the command line's runner,
// and in the worker's run loop as the extension drives it (a curriculum's second run starting from the
// first's checkpoint file). And the command line as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunOutcome } from '../../src/engine/experiments/outcome.js';
import { EXPERIMENT_THREADS, type ExperimentRun } from '../../src/engine/experiments/plan.js';
import { experiment } from '../../src/engine/experiments/registry.js';
import type { ExperimentReport } from '../../src/engine/experiments/report.js';
import { runPlan } from '../../src/engine/experiments/runner.js';
import { PROTOCOL_VERSION, type StartCommand, type WorkerCommand, type WorkerEvent } from '../../src/protocol/messages.js';
import { engine } from '../../src/worker/engine.js';
import { RunLoop } from '../../src/worker/runLoop.js';
import { scratchFolder } from './support/scratch.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../src/cli/main.js');
const dir = scratchFolder('experiments');

/** An outcome without its wall-clock time, the one thing that differs between two runs of the same plan. */
function timeless(o: RunOutcome | undefined): Omit<RunOutcome, 'ms'> {
  assert.ok(o !== undefined, 'expected an outcome');
  const { ms: _ms, ...rest } = o;
  return rest;
}

test('the same plan trains to the same outcomes twice, and a curriculum run starts from its predecessor', async () => {
  const plan = experiment('memory').plan({ quick: true, seeds: [3] });
  const runs = plan.runs.filter((r) => r.factors.cell === 'gru');
  assert.ok(runs[1]!.from === runs[0]!.id, 'expected the second gap to continue the first');
  const small = { ...plan, runs };
  const a = await runPlan(small, EXPERIMENT_THREADS);
  const b = await runPlan(small, EXPERIMENT_THREADS);
  for (const r of runs) assert.deepEqual(timeless(a.get(r.id)), timeless(b.get(r.id)), `run ${r.id} differs between two runs of the plan`);
  // The second gap's first measurement is of the first gap's final weights, on its own lines: not a fresh model's.
  const fresh = await runPlan({ ...plan, runs: [{ ...runs[1]!, from: undefined } as ExperimentRun] }, EXPERIMENT_THREADS);
  assert.notDeepEqual(a.get(runs[1]!.id)!.recall[0], fresh.get(runs[1]!.id)!.recall[0]);
});

/** The worker's loop on the real engine, as worker.ts binds it, with a host that keeps the events. */
function worker(): { send(c: Omit<StartCommand, 'type'> & { type?: string }): void; events: WorkerEvent[] } {
  const events: WorkerEvent[] = [];
  const loop = new RunLoop(engine, { post: (e) => events.push(e), now: () => performance.now(), defer: (f) => setImmediate(f) });
  return { send: (c) => loop.handle({ v: PROTOCOL_VERSION, type: 'start', ...c } as WorkerCommand), events };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 300_000;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(pred(), `timed out waiting for ${what}`);
}

test("the worker's loop measures an experiment's runs as the command line does, curriculum included", async () => {
  const plan = experiment('memory').plan({ quick: true, seeds: [1] });
  const runs = plan.runs.filter((r) => r.factors.cell === 'lstm');
  const cliOutcomes = await runPlan({ ...plan, runs }, EXPERIMENT_THREADS);
  let previous: string | undefined;
  for (const [i, run] of runs.entries()) {
    const w = worker();
    const path = join(dir, `worker-${i}.safetensors`);
    w.send({
      text: plan.files.find((f) => f.name === run.file)!.text,
      model: run.model,
      train: { ...run.train, threads: EXPERIMENT_THREADS },
      tokenizer: run.tokenizer,
      maxSteps: run.steps,
      maxMs: 0,
      autosavePath: path,
      autosaveEveryMs: 0,
      sampleEveryMs: 0,
      sampleLength: 10,
      temperature: 1,
      experiment: {
        run: { id: run.id, probe: run.probe, ...(run.from ? { from: run.from } : {}) },
        ...(previous ? { initFrom: previous } : {}),
      },
    });
    await until(() => w.events.some((e) => e.type === 'finished'), `run ${run.id} to finish`);
    const types = w.events.map((e) => e.type);
    assert.ok(types.indexOf('outcome') < types.indexOf('finished'), 'expected the outcome before finished');
    assert.ok(!types.includes('validation'), "an experiment run is judged by its probe, not by the trainer's validation");
    const outcome = w.events.find((e): e is Extract<WorkerEvent, { type: 'outcome' }> => e.type === 'outcome')!.outcome;
    assert.deepEqual(
      timeless(outcome),
      timeless(cliOutcomes.get(run.id)),
      `run ${run.id}: the worker's outcome differs from the command line's`,
    );
    const measures = w.events.filter((e): e is Extract<WorkerEvent, { type: 'recall' }> => e.type === 'recall').map((e) => e.measure);
    assert.deepEqual(measures, outcome.recall, 'expected every measurement reported as it was made');
    assert.ok(existsSync(path));
    previous = path;
  }
});

test("the bidirectional experiment's classifiers measure the same in the worker's loop as in the command line", async () => {
  const plan = experiment('bidirectional').plan({ quick: true, seeds: [2] });
  const runs = plan.runs.filter((r) => r.factors.place === 'start');
  assert.deepEqual(
    runs.map((r) => [r.model.task, r.model.bidirectional]),
    [
      ['classify', false],
      ['classify', true],
    ],
  );
  const cliOutcomes = await runPlan({ ...plan, runs }, EXPERIMENT_THREADS);
  for (const run of runs) {
    const w = worker();
    w.send({
      text: plan.files.find((f) => f.name === run.file)!.text,
      source: run.file,
      model: run.model,
      train: { ...run.train, threads: EXPERIMENT_THREADS },
      tokenizer: run.tokenizer,
      maxSteps: run.steps,
      maxMs: 0,
      autosaveEveryMs: 0,
      sampleEveryMs: 0,
      sampleLength: 10,
      temperature: 1,
      experiment: { run: { id: run.id, probe: run.probe } },
    });
    await until(() => w.events.some((e) => e.type === 'finished'), `run ${run.id} to finish`);
    const outcome = w.events.find((e): e is Extract<WorkerEvent, { type: 'outcome' }> => e.type === 'outcome')!.outcome;
    assert.deepEqual(
      timeless(outcome),
      timeless(cliOutcomes.get(run.id)),
      `run ${run.id}: the worker's outcome differs from the command line's`,
    );
    // Measured on the held-out lines before the first update, every `every` updates, and at the end.
    assert.deepEqual(
      outcome.recall.map((m) => m.step),
      [0, 30, 60],
    );
    assert.ok(outcome.recall.every((m) => m.lines === 64 && m.accuracy >= 0 && m.accuracy <= 1));
    assert.ok(Math.abs(outcome.unigramBits - 3) < 0.1, `label entropy ${outcome.unigramBits} bits, expected about 3 (8 keys)`);
  }
});

function recurrent(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('recurrent experiment exploding --quick --json writes its data and report and prints the verdict', () => {
  const r = recurrent('experiment', 'exploding', '--quick', '--json', '--dir', 'x');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ExperimentReport;
  assert.equal(report.name, 'exploding');
  assert.equal(report.state, 'done');
  assert.ok(report.verdict !== null && ['agrees', 'partly', 'disagrees', 'inconclusive'].includes(report.verdict.agreement));
  assert.ok(report.runs.every((x) => x.status === 'done' && x.outcome !== null));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'x', 'report.json'), 'utf8')), report);
  const plan = experiment('exploding').plan({ quick: true, seeds: [1] });
  for (const f of plan.files) assert.equal(readFileSync(join(dir, 'x', f.name), 'utf8'), f.text);
  assert.match(r.stderr, /run 2\/2 RNN 64 · SGD 3 · clip 1: 160 updates/);
});

test('the table form names the prediction, the measurements and the verdict', () => {
  const r = recurrent('experiment', 'exploding', '--quick', '--dir', 'y');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Exploding gradients and clipping \(quick\)\n/);
  assert.match(r.stdout, /Theory: Without clipping/);
  assert.match(r.stdout, /largest gradient norm/);
  assert.match(r.stdout, /Measured \((agrees|partly|disagrees|inconclusive)\): /);
});

test('an unknown experiment and bad seeds are refused with one line', () => {
  for (const [args, pattern] of [
    [
      ['experiment', 'telepathy'],
      /there is no experiment "telepathy"; the experiments are memory, truncation, exploding, bidirectional, gates/,
    ],
    [['experiment', 'memory', '--seeds', '1,x'], /--seeds must be whole numbers separated by commas/],
    [['experiment'], /expected NAME, got none/],
  ] as const) {
    const r = recurrent(...args);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});
