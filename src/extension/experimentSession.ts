// One experiment in VS Code: its runs trained one after another as ordinary runs (each its own worker,
// listed with the window's runs, so the dashboard's Compare runs and Gradient flow views overlay them),
// each measured by its worker as the plan says (experiments/tracker.ts), then the verdict computed from
// their outcomes as the command line computes it. The report follows the runs into the dashboard's
// Experiment view and, at the end, into report.json beside the data files.
import * as vscode from 'vscode';
import { RecurrentError } from '../engine/errors.js';
import type { RunOutcome } from '../engine/experiments/outcome.js';
import { EXPERIMENT_THREADS, type ExperimentPlan, type ExperimentRun } from '../engine/experiments/plan.js';
import type { ExperimentDefinition } from '../engine/experiments/registry.js';
import { newReport, type ExperimentReport, type ExperimentRunEntry } from '../engine/experiments/report.js';
import type { WorkerEvent } from '../protocol/messages.js';
import { DashboardPanel } from './dashboardPanel.js';
import { newRunId } from './launch.js';
import { nodeWorkerFactory } from './nodeWorker.js';
import { Run, type ExperimentFeed, type StartSettings } from './run.js';
import type { Studio } from './studio.js';

/** Report changes reach the dashboard at most this often while a run trains. */
const REPORT_EVERY_MS = 500;

export class ExperimentSession implements ExperimentFeed {
  private readonly state: ExperimentReport;
  private readonly outcomes = new Map<string, RunOutcome>();
  private readonly listeners = new Set<() => void>();
  /** The extension's run of each plan run. */
  private readonly started = new Map<string, Run>();
  /** Plan runs whose worker said `finished`. */
  private readonly finished = new Set<string>();
  private cancelled = false;
  private current: Run | null = null;
  private lastReport = 0;

  constructor(
    private readonly studio: Studio,
    private readonly def: ExperimentDefinition,
    private readonly plan: ExperimentPlan,
    private readonly folder: vscode.Uri,
  ) {
    this.state = newReport(plan, folder.fsPath || folder.toString());
  }

  report(): ExperimentReport {
    return this.state;
  }

  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Stops the run training now and leaves the rest unstarted; the report says no verdict. */
  cancel(): void {
    this.cancelled = true;
    try {
      this.current?.stop();
    } catch {
      // its worker is gone already
    }
  }

  /** Trains every run of the plan in order and returns the report with its verdict (none when cancelled). */
  async run(o: { openDashboard: boolean; onRun?: (entry: ExperimentRunEntry, index: number) => void }): Promise<ExperimentReport> {
    await this.studio.store.ensure();
    const lastUses = new Set(this.plan.runs.filter((r) => r.probe?.kind === 'recall' && r.probe.gates).map((r) => r.id));
    for (const [i, spec] of this.plan.runs.entries()) {
      if (this.cancelled) break;
      const entry = this.state.runs[i]!;
      o.onRun?.(entry, i);
      const run = await this.start(spec, entry);
      if (run === null) continue;
      if (i === 0 && o.openDashboard) DashboardPanel.createOrShow(this.studio.context.extensionUri, run);
      else DashboardPanel.follow(this, run);
      await this.ended(spec.id, run, entry);
      this.current = null;
      // A finished run's worker holds its model in memory: keep only those the end of the experiment reads.
      if (!lastUses.has(spec.id)) await run.dispose();
      this.changed(true);
    }
    this.state.state = this.cancelled ? 'cancelled' : 'done';
    if (!this.cancelled) {
      this.state.verdict = this.def.verdict(this.plan, this.outcomes);
      await this.showGates();
    }
    this.changed(true);
    await this.writeReport();
    return this.state;
  }

  private async start(spec: ExperimentRun, entry: ExperimentRunEntry): Promise<Run | null> {
    const text = this.plan.files.find((f) => f.name === spec.file)!.text;
    let initFrom: string | undefined;
    if (spec.from !== undefined) {
      const before = this.started.get(spec.from);
      const done = this.state.runs.find((r) => r.id === spec.from)?.status === 'done';
      if (before === undefined || !done || before.lastCheckpoint === null) {
        entry.status = 'failed';
        entry.problem = `it continues ${spec.from}, which did not finish`;
        return null;
      }
      initFrom = before.lastCheckpoint.path;
    }
    const runId = newRunId();
    const start: StartSettings = {
      model: spec.model,
      train: { ...spec.train, threads: EXPERIMENT_THREADS },
      tokenizer: spec.tokenizer,
      maxSteps: spec.steps,
      maxMs: 0,
      autosavePath: this.studio.store.checkpointPath(runId),
      autosaveEveryMs: 0,
      sampleEveryMs: 0,
      sampleLength: 200,
      temperature: 0.8,
      experiment: {
        run: {
          id: spec.id,
          probe: spec.probe,
          ...(spec.keepBias ? { keepBias: spec.keepBias } : {}),
          ...(spec.from ? { from: spec.from } : {}),
        },
        ...(initFrom ? { initFrom } : {}),
      },
    };
    const memory = vscode.workspace.getConfiguration('recurrent').get<number>('workerMemoryMB', 2048);
    const run = new Run({
      runId,
      label: spec.label,
      file: vscode.Uri.joinPath(this.folder, spec.file).toString(),
      text,
      start,
      workers: nodeWorkerFactory(this.studio.context.asAbsolutePath('dist/worker.cjs'), memory),
      warn: (m) => this.studio.log.warn(m),
      others: () => this.studio.runs.othersThan(runId),
    });
    run.experiment = this;
    run.onEvent((_id, e) => this.follow(spec, entry, e));
    this.started.set(spec.id, run);
    this.current = run;
    this.studio.runs.add(run);
    entry.runId = runId;
    entry.status = 'running';
    this.changed(true);
    try {
      await run.started();
    } catch (e) {
      entry.status = 'failed';
      entry.problem = e instanceof Error ? e.message : String(e);
      this.current = null;
      return null;
    }
    this.studio.refresh();
    return run;
  }

  private follow(spec: ExperimentRun, entry: ExperimentRunEntry, e: WorkerEvent): void {
    if (e.type === 'metrics' && e.metrics.length > 0) {
      entry.updates = e.metrics.at(-1)!.step;
      this.changed(false);
    } else if (e.type === 'recall') {
      entry.accuracy = e.measure.accuracy;
      this.changed(false);
    } else if (e.type === 'outcome') {
      entry.outcome = e.outcome;
      entry.updates = e.outcome.updates;
      this.outcomes.set(spec.id, e.outcome);
    } else if (e.type === 'error' && e.inReplyTo === undefined && e.kind !== 'nonFinite') {
      entry.problem = e.message;
    }
    if (e.type === 'finished') this.finished.add(spec.id);
    if (e.type === 'metrics' || e.type === 'state' || e.type === 'finished') this.studio.refreshSoon();
  }

  /** Resolves when the run has finished, stopped, crashed or failed. */
  private ended(id: string, run: Run, entry: ExperimentRunEntry): Promise<void> {
    return new Promise((resolve) => {
      const settle = (): void => {
        sub.dispose();
        entry.status = entry.outcome !== null ? 'done' : 'failed';
        entry.problem ??= entry.outcome === null ? `it ended without an outcome (${run.status})` : null;
        resolve();
      };
      const sub = run.onEvent((_id, e) => {
        if (e.type === 'finished' || (e.type === 'state' && e.state === 'stopped' && (run.status === 'crashed' || run.status === 'failed')))
          settle();
      });
      if (this.finished.has(id) || !run.alive) settle();
    });
  }

  /** Experiment 5's heatmap: the gates of its last run over a held-out recall line, in the dashboard's Gates view. */
  private async showGates(): Promise<void> {
    const last = [...this.plan.runs].reverse().find((r) => r.probe?.kind === 'recall' && r.probe.gates && this.outcomes.has(r.id));
    const run = last ? this.started.get(last.id) : undefined;
    if (!last || !run?.alive || last.probe?.kind !== 'recall') return;
    DashboardPanel.follow(this, run);
    try {
      await run.request('probeGates', last.probe.lines[0]!.replace(/\n$/, ''), '');
    } catch (e) {
      this.studio.log.warn(`gates of ${last.label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async writeReport(): Promise<void> {
    try {
      await vscode.workspace.fs.writeFile(
        vscode.Uri.joinPath(this.folder, 'report.json'),
        new TextEncoder().encode(JSON.stringify(this.state, null, 1)),
      );
    } catch (e) {
      this.studio.log.warn(`could not write the experiment's report.json: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private changed(now: boolean): void {
    const t = Date.now();
    if (!now && t - this.lastReport < REPORT_EVERY_MS) return;
    this.lastReport = t;
    for (const l of [...this.listeners]) l();
  }
}

/** The experiment's data files, written into `folder` (created if need be). */
export async function writeExperimentFiles(plan: ExperimentPlan, folder: vscode.Uri): Promise<void> {
  try {
    await vscode.workspace.fs.createDirectory(folder);
    for (const f of plan.files) await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, f.name), new TextEncoder().encode(f.text));
  } catch (e) {
    throw new RecurrentError(
      `cannot write the experiment's data into ${folder.fsPath || folder.toString()}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
