// Speed where users train, measured in the real extension host (code-server's, on Node 24, where the
// engine runs its relaxed SIMD kernels): training throughput of the bench's W2 and W4 in the
// extension's worker beside the command line on the same machine, the extension host's event loop
// while a W2-sized run trains with the dashboard open and loss heat on, and loss heat over a 1 MB file.
//
// The machine is shared and its load comes and goes, so throughput is reported, not asserted; the host
// thread's tasks are held to a bound (none runs 50 ms of CPU), since the extension host only ever runs
// short pieces of our work, and the event loop delay, which the machine's load stretches, is reported
// beside them; and loss heat asserts its order (the visible text drawn before the whole file is done)
// and the worker's CPU time within twice its goals, each reported with the load average.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { sotuText } from '../../scripts/sotu.mjs';
import type { RecurrentApi } from '../../src/extension/extension.js';
import { watchHostTasks } from './hostTasks.js';
import { until } from './until.js';

/** The bench's workloads (bench/workloads.json) as the extension's settings, on two threads as the bench trains. */
const WORKLOADS = {
  W2: { 'model.cell': 'lstm', 'model.hiddenSize': 128, 'training.batchSize': 32, 'training.sequenceLength': 64 },
  W4: { 'model.cell': 'lstm', 'model.hiddenSize': 512, 'training.batchSize': 64, 'training.sequenceLength': 100 },
} as const;
const COMMON = {
  'model.layers': 1,
  'training.optimizer': 'adam',
  'training.learningRate': 0.002,
  'training.clipNorm': 5,
  'training.threads': 2,
  'training.evaluateEvery': 0,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};
/** Seconds each throughput measurement trains. */
const SECONDS = 15;

const load = (): string => loadavg()[0]!.toFixed(1);

/** Milliseconds of CPU the extension host's own thread has used (Node 23.9 and later), or null where unknown. */
function threadCpuMs(): number | null {
  const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof usage !== 'function') return null;
  const u = usage.call(process);
  return (u.user + u.system) / 1000;
}

const TICK_MS = 10;

interface LoopMeasure {
  /** How late each 10 ms tick of a timer ran, in ms (monitorEventLoopDelay's samples less the 10 ms). */
  late: IntervalHistogram;
  /** CPU ms of each of the host thread's tasks; null where the runtime has no thread CPU clock. */
  tasks: number[] | null;
  text: string;
}

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

/**
 * The extension host's event loop over `ms`, while `during` runs. Two views of it: how late a 10 ms
 * timer fires (the event loop delay, which on a loaded machine also counts the time the OS gives the
 * thread to others), and the CPU each task on the thread used (work on the host thread: ours and
 * VS Code's, whatever the machine's load). A task that blocks the loop for 50 ms shows in both.
 */
async function measureLoop(ms: number, during: () => void = () => {}): Promise<LoopMeasure> {
  const late = monitorEventLoopDelay({ resolution: TICK_MS });
  const cpuClock = threadCpuMs() === null ? null : () => threadCpuMs()!;
  const watch = cpuClock && watchHostTasks(cpuClock);
  late.enable();
  during();
  await new Promise((r) => setTimeout(r, ms));
  late.disable();
  const tasks = watch?.stop() ?? null;
  const f = (x: number): string => x.toFixed(1);
  const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - TICK_MS);
  const text =
    `event loop delay max ${f(lateMs(late.max))} ms, p99 ${f(lateMs(late.percentile(99)))} ms, p50 ${f(lateMs(late.percentile(50)))} ms` +
    ` (${late.count} ticks)` +
    (tasks ? `; ${tasks.text}` : '');
  return { late, tasks: tasks && tasks.tasks.map((t) => t.ms), text };
}

suite('Speed and responsiveness where users train', function () {
  this.timeout(900_000);
  let api: RecurrentApi;
  let corpus: vscode.Uri;
  // Made when the suite runs, not when it is defined: a run of other suites (RECURRENT_INTEGRATION_GREP) leaves no folder.
  let dir = '';

  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const metrics = (id: string) => api.runs().find((r) => r.runId === id)?.metrics ?? [];

  const train = async (overrides: Record<string, unknown>, openDashboard = false): Promise<string> => {
    const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: corpus,
      fresh: true,
      overrides: { ...COMMON, ...overrides },
      openDashboard,
    });
    assert.ok(id, 'expected the train command to return a run id');
    return id;
  };

  suiteSetup(async () => {
    dir = mkdtempSync(join(tmpdir(), 'recurrent-speed-'));
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'expected a workspace folder');
    // The bench's corpus, 1,026,101 characters: the file the W2/W4 runs and the loss heat read.
    corpus = vscode.Uri.joinPath(folder.uri, 'sotu.txt');
    await vscode.workspace.fs.writeFile(corpus, new TextEncoder().encode(sotuText()));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    for (const r of api?.runs() ?? [])
      if (api.status(r.runId)?.state === 'running') await vscode.commands.executeCommand('recurrent.stop', r.runId);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Chars/s of a run in the extension's worker over SECONDS of wall-clock time after its first updates. */
  async function inExtension(workload: keyof typeof WORKLOADS): Promise<number> {
    const id = await train(WORKLOADS[workload]);
    try {
      // Past start-up and the first updates (compilation, the threads' start), like the bench's warm-up.
      await until(`${workload}'s first updates`, () => (metrics(id).at(-1)?.elapsedMs ?? 0) >= 2000, 120_000);
      const first = metrics(id).at(-1)!;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const last = await until('metrics after the measurement', () => {
        const m = metrics(id).at(-1)!;
        return m.step > first.step && m;
      });
      return ((last.tokens - first.tokens) * 1000) / (performance.now() - t0);
    } finally {
      await vscode.commands.executeCommand('recurrent.stop', id);
      await until('the run to stop', () => state(id) !== 'running');
    }
  }

  /** Chars/s of the command line (`recurrent train`, on the `node` the user's shell finds) on the same workload. */
  async function onCommandLine(workload: keyof typeof WORKLOADS): Promise<{ rate: number; node: string }> {
    const w = WORKLOADS[workload];
    const root = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio')!.extensionPath;
    const args = [
      join(root, 'bin', 'recurrent.cjs'),
      'train',
      corpus.fsPath,
      ...['--cell', 'lstm', '--hidden', String(w['model.hiddenSize']), '--batch', String(w['training.batchSize'])],
      ...['--seq', String(w['training.sequenceLength']), '--optimizer', 'adam', '--lr', '0.002', '--clip', '5', '--threads', '2'],
      ...['--eval-every', '0', '--sample-every', '0', '--time', `${SECONDS + 2}s`, '--out', join(dir, `${workload}.safetensors`)],
    ];
    const node = await new Promise<string>((resolve) => {
      const p = spawn('node', ['--version']);
      let v = '';
      p.stdout.on('data', (d: Buffer) => (v += d.toString()));
      p.on('close', () => resolve(v.trim()));
    });
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('node', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`recurrent train exited with ${code}:\n${text}`))));
    });
    const m = /done: [\d,]+ updates in .*?, ([\d.]+)(k|M)? chars\/s/.exec(out);
    assert.ok(m, `expected the command line's closing 'done: ... chars/s' line, got:\n${out}`);
    return { rate: Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1000 : 1), node };
  }

  test("W2 and W4 train in the extension host's worker as fast as on the command line (reported, not asserted)", async () => {
    const rows: string[] = [];
    for (const w of ['W2', 'W4'] as const) {
      const before = load();
      const ext = await inExtension(w);
      const cli = await onCommandLine(w);
      rows.push(
        `${w}: extension host (Node ${process.versions.node}) ${(ext / 1000).toFixed(1)} k chars/s, command line (${cli.node}) ${(cli.rate / 1000).toFixed(1)} k chars/s, ratio ${(ext / cli.rate).toFixed(2)} (load ${before} -> ${load()})`,
      );
      assert.ok(ext > 0 && cli.rate > 0, `${w}: expected both to train`);
    }
    console.log(`[speed] training throughput, ${SECONDS} s each, two threads:\n[speed]   ${rows.join('\n[speed]   ')}`);
  });

  test('the extension host stays responsive while a W2-sized run trains with the dashboard open and loss heat on', async () => {
    const doc = await vscode.workspace.openTextDocument(corpus);
    const editor = await vscode.window.showTextDocument(doc);
    const idle = await measureLoop(5000);
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', true);
    const id = await train(WORKLOADS.W2, true);
    try {
      await until('training to run', () => state(id) === 'running' && metrics(id).length > 0, 120_000);
      await until('the dashboard to show the run', () => api.dashboardShowing!() === id, 120_000);
      await until('loss heat drawn', () => api.editor!.heat.drawnLevels(doc) ?? undefined, 120_000);
      // Training waits while the worker computes the whole file's heat (minutes at a load of 20): measure once
      // it trains again, scrolling then drawing from that heat as well as probing each new view.
      await until("the whole file's heat", () => api.editor!.heat.heatState(doc).file ?? undefined, 400_000);
      const before = load();
      const stepsBefore = metrics(id).at(-1)?.step ?? 0;
      // 20 s of training with the user scrolling through the file every 2 s, which probes each new view.
      const busy = await measureLoop(20_000, () => {
        for (let i = 1; i <= 9; i++) {
          setTimeout(() => {
            const at = doc.positionAt(Math.floor((doc.getText().length * i) / 10));
            editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.AtTop);
          }, i * 2000);
        }
      });
      const updates = (metrics(id).at(-1)?.step ?? 0) - stepsBefore;
      console.log(
        `[speed] extension host, idle 5 s: ${idle.text}\n[speed] while W2 trains (dashboard open, loss heat on, scrolling every 2 s), 20 s, ${updates} updates, load ${before} -> ${load()}: ${busy.text}`,
      );
      // What the host thread itself does is held to the bounds; where the runtime cannot say (Electron's
      // Node 22), the event loop delay is, which a loaded machine can push over them on its own.
      const [max, p99] = busy.tasks
        ? [Math.max(...busy.tasks), percentile(busy.tasks, 99)]
        : [busy.late.max / 1e6 - TICK_MS, busy.late.percentile(99) / 1e6 - TICK_MS];
      assert.ok(max < 50, `expected no task on the host thread to run 50 ms: ${busy.text}`);
      assert.ok(p99 < 20, `expected the host thread's tasks' p99 under 20 ms: ${busy.text}`);
    } finally {
      await vscode.commands.executeCommand('recurrent.stop', id);
      await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    }
  });

  test('loss heat over a 1 MB file: the visible text first, then the whole file, and a scroll is tinted at once', async () => {
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    const doc = await vscode.workspace.openTextDocument(corpus);
    const editor = await vscode.window.showTextDocument(doc);
    const middle = doc.positionAt(Math.floor(doc.getText().length / 2));
    editor.revealRange(new vscode.Range(middle, middle), vscode.TextEditorRevealType.AtTop);
    const id = await train(WORKLOADS.W2);
    try {
      await until('20 updates', () => (metrics(id).at(-1)?.step ?? 0) >= 20, 300_000);
      const heat = api.editor!.heat;
      let fileAt = 0;
      // The previous test's run may still deliver the heat it was computing when it stopped: only this run's counts.
      const arrived = new Promise<void>((resolve) =>
        heat.onDidReceiveFileHeat(() => {
          if (heat.heatState(doc).file === null) return;
          fileAt ||= performance.now();
          resolve();
        }),
      );
      const before = load();
      const t0 = performance.now();
      await vscode.commands.executeCommand('recurrent.toggleLossHeat', true);
      await until('the visible text tinted', () => heat.drawnLevels(doc) ?? undefined, 60_000, 5);
      const visibleAt = performance.now();
      const waiting = (): string => {
        const h = heat.heatState(doc);
        return `the whole file (run ${id} ${api.status(id)?.state}, update ${metrics(id).at(-1)?.step}; heat follows ${h.run}, a request of ${h.filePendingRun ?? 'no run'} under way; load ${load()})`;
      };
      await Promise.race([arrived, until(waiting, () => heat.heatState(doc).file ?? undefined, 300_000)]);
      const state = heat.heatState(doc);
      const file = state.file!;
      const ms = (x: number | null): string => (x === null ? '—' : `${x.toFixed(0)} ms`);
      console.log(
        `[speed] loss heat, ${doc.getText().length} characters, W2-sized model training on two threads (load ${before} -> ${load()}): ` +
          `visible text tinted after ${ms(visibleAt - t0)} (the worker's probe: ${ms(state.visibleCpuMs)} CPU), ` +
          `whole file after ${ms((fileAt || performance.now()) - t0)} (the worker: ${ms(file.wallMs)} wall, ${ms(file.cpuMs)} CPU on its thread, ${file.tokens} tokens at update ${file.step})`,
      );
      // The order is the feature: the visible text does not wait for the whole file.
      assert.ok(visibleAt < (fileAt || Infinity), 'expected the visible text tinted before the whole file arrived');
      assert.equal(file.tokens, doc.getText().length, 'one token per character of the file');
      // The goals (0.5 s for the visible text, 5 s for the whole file) are for a quiet machine. The worker's
      // own CPU time (Node 23.9+) is what the load stretches least, but a loaded machine still stretches it
      // (the whole file took 4.0-5.1 s of it at load averages of 19-27): held here to twice the goals,
      // which catches what once made the probe five times slower (its products on the reference kernels).
      if (state.visibleCpuMs !== null)
        assert.ok(
          state.visibleCpuMs < 1000,
          `expected the visible text's probe well under 1 s (goal 0.5 s), took ${state.visibleCpuMs} ms CPU`,
        );
      if (file.cpuMs !== null)
        assert.ok(file.cpuMs < 10_000, `expected the whole file well under 10 s (goal 5 s), took ${file.cpuMs} ms CPU`);
      // Text scrolled into view now is tinted from the whole file's heat, before any probe of it.
      const hold = await heat.hold();
      try {
        const drawn = new Promise<void>((resolve) => heat.onDidDraw(() => resolve()));
        const far = doc.positionAt(Math.floor(doc.getText().length * 0.9));
        editor.revealRange(new vscode.Range(far, far), vscode.TextEditorRevealType.AtTop);
        await drawn;
        assert.ok(
          heat.heatState(doc).drawnFromFile > 20,
          `expected the new view tinted from the whole file's heat, got ${heat.heatState(doc).drawnFromFile} ranges`,
        );
      } finally {
        hold.dispose();
      }
    } finally {
      await vscode.commands.executeCommand('recurrent.stop', id);
      await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    }
  });
});
