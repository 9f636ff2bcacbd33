// One training run as the extension sees it: owns one worker, the run's start command and its history,
// answers the dashboard, and survives the worker dying (reported with its reason, restartable from the
// last checkpoint). No `vscode` here: the worker comes from an injected factory, so the unit tests drive
// a run with a scripted fake worker.
import type { Task } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import type { ExperimentReport } from '../engine/experiments/report.js';
import type { StepMetrics } from '../engine/measurements.js';
import {
  PROTOCOL_VERSION,
  type FromWebview,
  type RunDescription,
  type RunHistory,
  type SamplingRequest,
  type RequestCommand,
  type StartCommand,
  type WorkerCommand,
  type WorkerEvent,
} from '../protocol/messages.js';
import { RequestTable } from '../protocol/requests.js';
import { checkWorkerEvent } from '../protocol/workerMessages.js';
import type { RequestArgs, RequestMethod, RequestResult } from '../protocol/workerRequests.js';

/** The experiment a run belongs to, for the dashboard: its report, and word when the report changes. */
export interface ExperimentFeed {
  report(): ExperimentReport;
  onChange(listener: () => void): { dispose(): void };
}

/** How the worker ended when nobody asked it to. */
export interface WorkerExit {
  code: number;
  error?: { message: string; code?: string };
}

/** The worker behind a tiny interface: worker_threads in the extension, a fake in the tests. */
export interface WorkerPort {
  post(cmd: WorkerCommand): void;
  onMessage(listener: (raw: unknown) => void): void;
  onExit(listener: (exit: WorkerExit) => void): void;
  terminate(): Promise<void>;
}

export type WorkerFactory = () => WorkerPort;

export type RunState = 'starting' | 'running' | 'paused' | 'stopped' | 'finished' | 'crashed' | 'failed';

export type StartSettings = Omit<StartCommand, 'type' | 'text' | 'resumeFrom'>;

export interface RunOptions {
  runId: string;
  label: string;
  /** The trained file (a URI string or path), shown to the user and used to find the run again. */
  file: string;
  /** Snapshot of the text taken when the run started: edits made while it trains do not reach it. */
  text: string;
  start: StartSettings;
  /** Resume exactly from this checkpoint instead of creating a model. */
  resumeFrom?: string;
  workers: WorkerFactory;
  warn(message: string): void;
  /** The other runs, for the dashboard's comparison. */
  others?: () => RunHistory[];
  /** What the dashboard showed of the run before (saved with its checkpoint): kept up to that checkpoint's update. */
  history?: RunHistory | null;
}

/** Keep at most this many metric points in the history; older ones are thinned, never the latest. */
export const HISTORY_METRICS_CAP = 20000;
const HISTORY_SAMPLES_CAP = 200;

type WithoutVersion<T> = T extends unknown ? Omit<T, 'v'> : never;
type Listener = (runId: string, e: WorkerEvent) => void;

export class Run {
  readonly runId: string;
  readonly label: string;
  readonly file: string;
  private state: RunState = 'starting';
  private described: RunDescription | null = null;
  private worker: WorkerPort | null = null;
  private requests = new RequestTable();
  private readonly listeners = new Set<Listener>();
  private startedWaiters: Array<{ resolve(r: RunDescription): void; reject(e: Error): void }> = [];
  private readonly hist: Omit<RunHistory, 'runId' | 'label' | 'file' | 'run' | 'state'> = {
    metrics: [],
    validation: [],
    clips: [],
    samples: [],
    gradientFlow: null,
    gates: null,
  };
  private checkpoint: { path: string; step: number } | null = null;
  private crash: string | null = null;
  private error: string | null = null;
  private temperature: number;
  /** Set when the run is one of an experiment's (experimentSession.ts). */
  experiment: ExperimentFeed | null = null;
  /** Whether the history came from an earlier life of the run (RunOptions.history). */
  private seeded = false;

  constructor(private readonly opts: RunOptions) {
    this.runId = opts.runId;
    this.label = opts.label;
    this.file = opts.file;
    this.temperature = opts.start.temperature;
    if (opts.history) this.seed(opts.history);
    this.spawn(opts.resumeFrom);
  }

  /** Takes the history of an earlier life of this run; `started` cuts it back to the update its checkpoint holds. */
  private seed(h: RunHistory): void {
    this.seeded = true;
    this.hist.metrics = h.metrics.slice();
    this.hist.validation = h.validation.slice();
    this.hist.clips = h.clips.slice();
    this.hist.samples = h.samples.slice();
    this.hist.gradientFlow = h.gradientFlow;
    this.hist.gates = h.gates;
  }

  // ---- what the rest of the extension reads ---------------------------------------------------

  get status(): RunState {
    return this.state;
  }

  get description(): RunDescription | null {
    return this.described;
  }

  get latest(): StepMetrics | null {
    return this.hist.metrics.at(-1) ?? null;
  }

  get lastCheckpoint(): { path: string; step: number } | null {
    return this.checkpoint;
  }

  /** Why the worker died, when it crashed; why the run could not start, when it failed. */
  get problem(): string | null {
    return this.crash ?? this.error;
  }

  get text(): string {
    return this.opts.text;
  }

  get settings(): StartSettings {
    return this.opts.start;
  }

  /** What the model learns: the checkpoint's task once the worker has it (a resumed run's), else the settings'. */
  get task(): Task {
    return this.described?.model.task ?? this.opts.start.model.task;
  }

  /** True while a worker is alive (the model can be sampled, saved, probed). */
  get alive(): boolean {
    return this.worker !== null;
  }

  /** Resolves with the run's description once the worker has built the model; rejects if it cannot. */
  started(): Promise<RunDescription> {
    if (this.described && this.state !== 'starting') return Promise.resolve(this.described);
    if (this.state === 'failed' || this.state === 'crashed')
      return Promise.reject(new RecurrentError(this.problem ?? 'the run did not start'));
    return new Promise((resolve, reject) => this.startedWaiters.push({ resolve, reject }));
  }

  // ---- DashboardSource -------------------------------------------------------------------------

  history(): RunHistory {
    return {
      runId: this.runId,
      label: this.label,
      file: this.file,
      run: this.described,
      metrics: this.hist.metrics.slice(),
      validation: this.hist.validation.slice(),
      clips: this.hist.clips.slice(),
      samples: this.hist.samples.slice(),
      gradientFlow: this.hist.gradientFlow,
      gates: this.hist.gates,
      state: this.state === 'running' || this.state === 'paused' || this.state === 'finished' ? this.state : 'stopped',
    };
  }

  others(): RunHistory[] {
    return this.opts.others?.() ?? [];
  }

  onEvent(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** A message from the dashboard, already checked by the panel; errors are reported, never thrown. */
  handle(m: FromWebview): void {
    const report = (e: unknown): void => this.opts.warn(`dashboard request failed: ${e instanceof Error ? e.message : String(e)}`);
    try {
      switch (m.type) {
        case 'ready':
          return;
        case 'pause':
          this.pause();
          return;
        case 'resume':
          this.resume();
          return;
        case 'stop':
          this.stop();
          return;
        case 'setTemperature':
          this.setTemperature(m.temperature);
          return;
        case 'setLearningRate':
          this.setLearningRate(m.lr);
          return;
        case 'sample':
          this.sample({
            prime: m.prime,
            length: m.length,
            temperature: m.temperature,
            topK: 0,
            topP: 1,
            greedy: false,
            seed: Date.now() >>> 0,
            ...(m.label !== undefined ? { label: m.label } : {}),
            ...(m.count !== undefined ? { count: m.count } : {}),
          }).catch(report);
          return;
        case 'probeGates':
          this.request('probeGates', m.text, m.label ?? '').catch(report);
          return;
      }
    } catch (e) {
      report(e);
    }
  }

  // ---- control ----------------------------------------------------------------------------------

  pause(): void {
    this.requireWorker();
    if (this.state === 'running') this.send({ type: 'pause' });
  }

  resume(): void {
    this.requireWorker();
    if (this.state === 'paused') this.send({ type: 'resume' });
  }

  stop(): void {
    this.requireWorker();
    if (this.state === 'running' || this.state === 'paused') this.send({ type: 'stop' });
  }

  setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr))) throw new RecurrentError(`the learning rate must be a positive number, got ${lr}`);
    this.send({ type: 'set', lr });
  }

  setTemperature(temperature: number): void {
    if (!(temperature > 0 && Number.isFinite(temperature)))
      throw new RecurrentError(`the temperature must be a positive number, got ${temperature}`);
    this.temperature = temperature;
    this.send({ type: 'set', temperature });
  }

  get samplingTemperature(): number {
    return this.temperature;
  }

  /** Asks the worker; resolves with the reply workerRequests.ts declares for `method`, rejects with the worker's error. */
  request<K extends RequestMethod>(method: K, ...args: RequestArgs<K>): Promise<RequestResult<K>> {
    return this.ask(method, args);
  }

  /** Samples from the current weights; `onChunk` sees the text as it streams. */
  sample(request: SamplingRequest, onChunk?: (text: string) => void): Promise<string> {
    return this.ask('sample', [request], onChunk);
  }

  private async ask<K extends RequestMethod>(method: K, args: RequestArgs<K>, onChunk?: (text: string) => void): Promise<RequestResult<K>> {
    this.requireWorker(); // before opening a request that nothing would answer
    const { id, reply } = this.requests.open(method, onChunk);
    this.send({ type: 'request', id, method, args } as RequestCommand);
    return reply;
  }

  /** Test-only: make the worker fail as real workers fail. */
  crashWorker(how: 'throw' | 'exit' | 'oom'): void {
    this.send({ type: 'crash', how });
  }

  /** After a crash: a new worker resumes exactly from the last checkpoint (or starts over without one). */
  restart(): Promise<RunDescription> {
    if (this.state !== 'crashed') throw new RecurrentError(`the run is ${this.state}, not crashed: nothing to restart`);
    const from = this.checkpoint;
    this.trimTo(from?.step ?? -1);
    this.crash = null;
    this.state = 'starting';
    this.spawn(from?.path);
    return this.started();
  }

  /** Forgets what the history says happened after update `step` (the model is back there). */
  private trimTo(step: number): void {
    this.hist.metrics = this.hist.metrics.filter((m) => m.step <= step);
    this.hist.validation = this.hist.validation.filter((m) => m.step <= step);
    this.hist.clips = this.hist.clips.filter((c) => c.step <= step);
  }

  /** Ends the worker; the history stays readable. */
  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.listeners.clear();
    this.requests.failAll('the run was closed');
    if (this.state === 'running' || this.state === 'paused' || this.state === 'starting') this.state = 'stopped';
    if (w) await w.terminate();
  }

  // ---- the worker ------------------------------------------------------------------------------

  private spawn(resumeFrom: string | undefined): void {
    const w = this.opts.workers();
    this.worker = w;
    this.requests = new RequestTable();
    w.onMessage((raw) => {
      if (this.worker !== w) return;
      const checked = checkWorkerEvent(raw);
      if (!checked.ok) {
        this.opts.warn(`dropped a message from the training worker: ${checked.problem}`);
        return;
      }
      this.receive(checked.message);
    });
    w.onExit((exit) => {
      if (this.worker !== w) return; // terminated on purpose
      this.worker = null;
      this.crashed(exit);
    });
    const start: StartCommand = {
      type: 'start',
      ...this.opts.start,
      text: this.opts.text,
      temperature: this.temperature,
      ...(resumeFrom ? { resumeFrom } : {}),
    };
    w.post({ v: PROTOCOL_VERSION, ...start });
  }

  private send(cmd: WithoutVersion<Exclude<WorkerCommand, { type: 'start' }>>): void {
    this.requireWorker().post({ v: PROTOCOL_VERSION, ...cmd } as WorkerCommand);
  }

  private requireWorker(): WorkerPort {
    if (!this.worker) {
      throw new RecurrentError(
        this.state === 'crashed'
          ? `the training worker crashed (${this.crash}); restart the run from its last checkpoint first`
          : 'the run has ended and its worker is gone; load its checkpoint to sample from it again',
      );
    }
    return this.worker;
  }

  private receive(e: WorkerEvent): void {
    if (this.requests.settle(e) && e.type === 'reply') return; // the asker's alone
    switch (e.type) {
      case 'started':
        this.described = e.run;
        if (this.seeded) this.trimTo(e.resumedFromStep);
        // A run loaded from a checkpoint shows its curve so far; a restarted one kept its own.
        if (e.history && this.hist.metrics.length === 0) {
          this.hist.metrics.push(...e.history.metrics);
          this.hist.validation.push(...e.history.validation);
        }
        break;
      case 'state':
        this.state = e.state;
        // The worker follows `started` with its first state: the run counts as started once it has one.
        if (this.described) for (const w of this.startedWaiters.splice(0)) w.resolve(this.described);
        break;
      case 'metrics':
        this.hist.metrics.push(...e.metrics);
        if (this.hist.metrics.length > HISTORY_METRICS_CAP) this.hist.metrics = thin(this.hist.metrics);
        break;
      case 'validation':
        this.hist.validation.push(e.metrics);
        break;
      case 'clip':
        this.hist.clips.push(...e.clips);
        break;
      case 'sample':
        this.hist.samples.push({
          step: e.step,
          temperature: e.temperature,
          prime: e.prime,
          text: e.text,
          ...(e.label !== undefined ? { label: e.label } : {}),
        });
        if (this.hist.samples.length > HISTORY_SAMPLES_CAP) this.hist.samples.shift();
        break;
      case 'gradientFlow':
        this.hist.gradientFlow = e.flow;
        break;
      case 'gates':
        this.hist.gates = e.probe;
        break;
      case 'checkpointSaved':
        this.checkpoint = { path: e.path, step: e.step };
        break;
      case 'error':
        if (e.inReplyTo !== undefined) break;
        if (this.state === 'starting') {
          // The model could not be built (bad text, unreadable checkpoint): no worker stays behind.
          this.error = e.message;
          this.state = 'failed';
          const w = this.worker;
          this.worker = null;
          void w?.terminate();
          for (const s of this.startedWaiters.splice(0)) s.reject(new RecurrentError(e.message));
        } else {
          this.error = e.message;
        }
        break;
      default:
        break;
    }
    this.emit(e);
  }

  private crashed(exit: WorkerExit): void {
    const oom = exit.error?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const reason = oom
      ? 'it ran out of memory (make the model or batch smaller, or raise recurrent.workerMemoryMB)'
      : exit.error
        ? exit.error.message
        : `it exited with code ${exit.code}`;
    this.crash = reason;
    const wasStarting = this.state === 'starting';
    this.state = 'crashed';
    this.requests.failAll(`the training worker stopped: ${reason}`);
    for (const s of this.startedWaiters.splice(0))
      s.reject(new RecurrentError(`the training worker stopped before the run started: ${reason}`));
    const kept = this.checkpoint
      ? `; its last checkpoint (update ${this.checkpoint.step}) is kept`
      : wasStarting
        ? ''
        : '; no checkpoint was saved yet';
    this.emit({ v: PROTOCOL_VERSION, type: 'error', kind: 'internal', message: `the training worker stopped: ${reason}${kept}` });
    this.emit({ v: PROTOCOL_VERSION, type: 'state', state: 'stopped' });
  }

  private emit(e: WorkerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(this.runId, e);
      } catch (err) {
        this.opts.warn(`a listener of run ${this.runId} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** Halves the older half of a long history, keeping the recent half at full resolution. */
function thin(metrics: StepMetrics[]): StepMetrics[] {
  const half = metrics.length >> 1;
  return [...metrics.slice(0, half).filter((_, i) => i % 2 === 0), ...metrics.slice(half)];
}
