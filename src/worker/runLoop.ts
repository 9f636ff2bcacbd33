// The worker's side of one run: trains in short slices so commands (pause, sample, save, set lr)
// are answered between them, and throttles what it reports: metrics a few times a second, samples,
// gradient flow and norms every few seconds, so a fast engine never floods the extension host.
import { RecurrentError } from '../engine/errors.js';
import type { ClipEvent, StepMetrics, ValidationMetrics } from '../engine/measurements.js';
import { prepareTrainer, RunTracker } from '../engine/experiments/tracker.js';
import {
  PROTOCOL_VERSION,
  type FileHeat,
  type RequestCommand,
  type SamplingRequest,
  type StartCommand,
  type WorkerCommand,
  type WorkerEvent,
} from '../protocol/messages.js';
import type { RequestArgs, RequestMethod, RequestResult } from '../protocol/workerRequests.js';
import type { EngineLike } from './engineApi.js';
import { LmRunTrainer } from './lmRunTrainer.js';
import { TaskRunTrainer } from './taskRunTrainer.js';
import type { RunTrainer } from './runTrainer.js';
import type { TextHeat } from '../engine/textLoss.js';
import { transferablesOf, type Transfer } from './transfer.js';

/** Everything the loop needs from the outside world; worker.ts passes the real ones. */
export interface RunLoopHost {
  post(event: WorkerEvent, transfer: Transfer): void;
  now(): number;
  /** Runs `f` after pending messages have been handled (setImmediate in a worker). */
  defer(f: () => void): void;
}

export const TIMING = {
  /** Longest stretch of training between looks at the message queue. */
  sliceMs: 40,
  metricsEveryMs: 250,
  /** At most this often; a large model's probe runs longer than an update (two passes of the window on one thread), so then less often. */
  gradientFlowEveryMs: 5000,
  /** The share of a run's time the gradient flow probe may take: a W4-sized one took a fifth of it every 5 s. */
  gradientFlowShare: 0.05,
  normsEveryMs: 5000,
  /** Sample chunks while streaming. */
  chunkEveryMs: 60,
};

type Omit1<T> = T extends unknown ? Omit<T, 'v'> : never;
type Event = Omit1<WorkerEvent>;

/** How the worker answers each request of workerRequests.ts; `id` names the request (sample chunks carry it). */
type Answers = { [K in RequestMethod]: (args: RequestArgs<K>, id: number) => RequestResult<K> | Promise<RequestResult<K>> };

export class RunLoop {
  private trainer: RunTrainer | null = null;
  private start: StartCommand | null = null;
  private state: 'idle' | 'running' | 'paused' | 'stopped' | 'finished' = 'idle';
  private looping = false;
  private busy: Promise<void> = Promise.resolve();
  private temperature = 1;
  private startedAt = 0;
  private runMs = 0;
  private firstUpdate = 0;
  private metrics: StepMetrics[] = [];
  private clips: ClipEvent[] = [];
  private last = { metrics: 0, sample: 0, flow: 0, norms: 0, autosave: 0 };
  /** From one gradient flow probe to the next: TIMING's, or longer where the probe is costly. */
  private flowEveryMs: number = TIMING.gradientFlowEveryMs;
  /** Whether the last autosave failed (said once per streak), and the update the last one that worked holds. */
  private autosaveFailing = false;
  private lastSaved: number | null = null;
  /** What the last validation said; autosaves wait while it says the run diverged. */
  private diverged = false;
  private sampleSeed = 1;
  /** An experiment's run: what it measures as it trains and records for the verdict (experiments/tracker.ts). */
  private tracker: RunTracker | null = null;

  /** Each runs queued, between training slices; what it returns is the reply, what it throws an error naming the request. */
  private readonly answers: Answers = {
    sample: ([request], id) => this.sample(request, id),
    save: ([path]) => this.save(path),
    probeGates: ([text, label]) => this.emit({ type: 'gates', probe: this.need().probeGates(text, label) }),
    probeEditor: ([text, k, reach]) => {
      const cpu = threadCpuMs();
      const probe = this.need().probeEditor(text, k, reach);
      return { probe, step: this.need().updates, ...(cpu === null ? {} : { cpuMs: threadCpuMs()! - cpu }) };
    },
    locateTokens: ([spans]) => this.need().locateTokens(spans),
    predictLines: ([lines]) => this.need().predictLines(lines),
    probeHeat: ([text]) => this.fileHeat(text),
  };
  /** The file heat being computed (probeHeat), slice by slice; training waits while there is one. */
  private heat: { job: TextHeat; started: number; cpuMs: number; reject(e: Error): void } | null = null;

  constructor(
    private readonly engine: EngineLike,
    private readonly host: RunLoopHost,
  ) {}

  handle(cmd: WorkerCommand): void {
    switch (cmd.type) {
      case 'start':
        void this.begin(cmd);
        return;
      case 'pause':
        this.pause();
        return;
      case 'resume':
        this.resume();
        return;
      case 'stop':
        this.queue(() => this.finish('stopped'));
        return;
      case 'set':
        if (cmd.lr !== undefined) this.trainer?.setLearningRate(cmd.lr);
        if (cmd.temperature !== undefined) this.temperature = cmd.temperature;
        return;
      case 'request':
        // probeHeat queues its own slices, so the requests after it need not wait for the whole file.
        if (cmd.method === 'probeHeat') this.answer(cmd).catch((e) => this.fail(e, cmd.id));
        else this.queue(() => this.answer(cmd), cmd.id);
        return;
      case 'crash':
        return; // handled by worker.ts, which knows the thread's memory limit
    }
  }

  private async answer<K extends RequestMethod>(cmd: RequestCommand & { method: K }): Promise<void> {
    const result = await (this.answers[cmd.method] as Answers[K])(cmd.args as RequestArgs<K>, cmd.id);
    this.emit({ type: 'reply', inReplyTo: cmd.id, method: cmd.method, result } as Event);
  }

  private async begin(cmd: StartCommand): Promise<void> {
    if (this.start) {
      this.emit({ type: 'error', kind: 'internal', message: 'this worker already has a run; start a new worker for a new one' });
      return;
    }
    this.start = cmd;
    this.temperature = cmd.temperature;
    try {
      this.trainer = cmd.resumeFrom ? this.engine.resume(cmd, await this.engine.readCheckpoint(cmd.resumeFrom)) : this.engine.create(cmd);
      const x = cmd.experiment;
      if (x && !cmd.resumeFrom) {
        // The experiments train language models and classifiers: their tracker reads the trainer itself.
        if (!(this.trainer instanceof LmRunTrainer || this.trainer instanceof TaskRunTrainer))
          throw new RecurrentError('an experiment run trains a language model or a classifier');
        prepareTrainer(this.trainer.trainer, x.run, x.initFrom ? await this.engine.readCheckpoint(x.initFrom) : null);
        this.tracker = new RunTracker(x.run, this.trainer.trainer);
      }
    } catch (e) {
      this.trainer?.close();
      this.trainer = null;
      this.fail(e);
      return;
    }
    const t = this.trainer;
    this.firstUpdate = t.updates;
    if (cmd.resumeFrom !== undefined && cmd.resumeFrom === cmd.autosavePath) this.lastSaved = t.updates;
    this.sampleSeed = t.train.seed;
    // A resumed run's curve so far comes with it (the validation at this update is made again just below).
    const history = t.history();
    const metrics = history?.metrics() ?? [];
    const validation = history?.validations().filter((v) => v.step < t.updates) ?? [];
    this.emit({
      type: 'started',
      run: t.describe(),
      resumedFromStep: t.updates,
      ...(metrics.length || validation.length ? { history: { metrics, validation } } : {}),
    });
    const now = this.host.now();
    this.last = { metrics: now, sample: now, flow: -Infinity, norms: -Infinity, autosave: now };
    this.queue(async () => {
      // An experiment's run is judged on its held-out lines by its tracker, not by the trainer's validation.
      if (this.tracker === null) this.validated(t.validate('sample'));
      const first = this.tracker?.begin();
      if (first) this.emit({ type: 'recall', measure: first });
    });
    if (cmd.paused) this.setState('paused');
    else this.resume();
  }

  private pause(): void {
    if (this.state !== 'running') return;
    this.runMs += this.host.now() - this.startedAt;
    this.flushMetrics();
    this.setState('paused');
  }

  private resume(): void {
    if (!this.trainer || (this.state !== 'paused' && this.state !== 'idle')) return;
    this.startedAt = this.host.now();
    this.setState('running');
    this.loop();
  }

  /** Work that must not interleave with a training slice or another request: runs in order. */
  private queue(work: () => Promise<void>, id?: number): void {
    this.busy = this.busy.then(work).catch((e) => this.fail(e, id));
  }

  private loop(): void {
    if (this.looping) return;
    this.looping = true;
    const tick = (): void => {
      if (this.state !== 'running') {
        this.looping = false;
        return;
      }
      this.queue(async () => {
        try {
          await this.slice();
        } catch (e) {
          this.broken();
          throw e;
        }
        this.host.defer(tick);
      });
    };
    this.host.defer(tick);
  }

  private async slice(): Promise<void> {
    if (this.heat !== null) return; // the file heat goes first: it is what the user waits for
    const t = this.need();
    const s = this.start!;
    const sliceEnd = this.host.now() + TIMING.sliceMs;
    while (this.state === 'running') {
      const m = t.step();
      const spike = t.spike(m); // where an unclipped or non-finite update came from
      if (spike) this.emit({ type: 'gradientSpike', spikes: [spike] });
      const measure = this.tracker?.afterStep(m);
      if (measure) this.emit({ type: 'recall', measure });
      if (!Number.isFinite(m.lossNats)) {
        this.flushMetrics();
        if (this.tracker) this.emit({ type: 'outcome', outcome: this.tracker.finish() });
        this.emit({
          type: 'error',
          kind: 'nonFinite',
          step: m.step,
          message: `loss became ${m.lossNats} at update ${m.step}; training stopped there and the last checkpoint stands (lower the learning rate, or turn on clipping)`,
        });
        this.emit({ type: 'finished', step: t.updates, reason: 'nonFinite' });
        this.setState('stopped');
        t.close();
        return;
      }
      // The engine reuses its metrics and clip objects from step to step: keep copies.
      this.metrics.push(m.scores ? { ...m, scores: { ...m.scores } } : { ...m });
      const clip = m.clipped ? t.lastClip() : null;
      if (clip) this.clips.push({ ...clip, spans: clip.spans.map(([a, b]) => [a, b]) });
      if (t.validationDue()) {
        this.flushMetrics();
        this.validated(t.validate('sample'));
      }
      const done = t.updates - this.firstUpdate;
      const ranMs = this.runMs + this.host.now() - this.startedAt;
      if ((s.maxSteps && done >= s.maxSteps) || (s.maxMs && ranMs >= s.maxMs)) {
        await this.finish(s.maxSteps && done >= s.maxSteps ? 'steps' : 'time');
        return;
      }
      if (this.host.now() >= sliceEnd) break;
    }
    await this.periodic();
  }

  private async periodic(): Promise<void> {
    const t = this.need();
    const s = this.start!;
    const now = this.host.now();
    if (now - this.last.metrics >= TIMING.metricsEveryMs) this.flushMetrics();
    if (now - this.last.flow >= this.flowEveryMs) {
      this.last.flow = now;
      // An experiment's runs show the gradient of the loss it is about: the recall's, back across the gap.
      const flow = this.tracker?.gradientFlow() ?? t.gradientFlow();
      this.flowEveryMs = Math.max(TIMING.gradientFlowEveryMs, (this.host.now() - now) / TIMING.gradientFlowShare);
      this.emit({ type: 'gradientFlow', flow });
    }
    if (now - this.last.norms >= TIMING.normsEveryMs) {
      this.last.norms = now;
      this.emit({ type: 'norms', step: t.updates, tensors: t.tensorNorms() });
    }
    if (s.sampleEveryMs && now - this.last.sample >= s.sampleEveryMs) {
      this.last.sample = now;
      const base = {
        prime: '',
        length: s.sampleLength,
        temperature: this.temperature,
        topK: 0,
        topP: 1,
        greedy: false,
        seed: this.sampleSeed,
      };
      const requests = t.periodicSamples(base);
      for (const request of requests) await this.sample(request);
      // A request of several texts takes the seeds after its own; the next period starts after them all.
      this.sampleSeed += Math.max(
        1,
        requests.reduce((n, r) => n + (r.count ?? 1), 0),
      );
    }
    // A diverged run does not replace its last autosave with a worse state; a validation that recovers resumes them.
    if (s.autosavePath && s.autosaveEveryMs && now - this.last.autosave >= s.autosaveEveryMs && !this.diverged) {
      this.last.autosave = now;
      await this.autosave(s.autosavePath);
    }
  }

  /**
   * An autosave that fails (a full disk) does not stop the run: it is said once, training goes on, the
   * checkpoint saved before stands, and the next interval tries again.
   */
  private async autosave(path: string): Promise<void> {
    try {
      await this.save(path, true);
      this.autosaveFailing = false;
    } catch (e) {
      if (!(e instanceof RecurrentError)) throw e;
      if (!this.autosaveFailing) {
        const stands = this.lastSaved === null ? 'nothing is saved yet' : `the checkpoint of update ${this.lastSaved} stands`;
        this.emit({
          type: 'error',
          kind: 'input',
          message: `autosave failed: ${e.message}; training goes on, ${stands}, and the next autosave tries again`,
        });
      }
      this.autosaveFailing = true;
    }
  }

  private validated(v: ValidationMetrics): void {
    this.diverged = v.diverged === true;
    this.emit({ type: 'validation', metrics: v });
  }

  /**
   * The loss of every token of `text` (probeHeat): windows of the whole text in parallel streams, on the
   * trainer's networks and training threads, a slice at a time so that the requests queued meanwhile (the
   * visible text's probe, a hover) are answered between slices.
   */
  private fileHeat(text: string): Promise<FileHeat> {
    this.heat?.reject(new RecurrentError('a newer loss heat request replaced this one'));
    return new Promise((resolve, reject) => {
      const h = { job: this.need().textHeat(text), started: this.host.now(), cpuMs: 0, reject };
      this.heat = h;
      const slice = (): void =>
        this.queue(async () => {
          if (this.heat !== h) return;
          try {
            const cpu = threadCpuMs();
            const done = h.job.run(this.host.now() + TIMING.sliceMs);
            if (cpu !== null) h.cpuMs += threadCpuMs()! - cpu;
            if (!done) {
              this.host.defer(slice);
              return;
            }
            this.heat = null;
            const { ids, offsets, lossNats } = h.job;
            const unknown: number[] = [];
            for (let i = 0; i < ids.length; i++) if (ids[i]! < 0) unknown.push(i);
            resolve({
              step: this.need().updates,
              offsets,
              lossNats,
              unknown,
              wallMs: this.host.now() - h.started,
              ...(cpu === null ? {} : { cpuMs: h.cpuMs }),
            });
          } catch (e) {
            this.heat = null;
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      slice();
    });
  }

  /** Generates, streaming chunks to request `id` if one asked, and reports the sample to all. */
  private async sample(request: SamplingRequest, id?: number): Promise<string> {
    const t = this.need();
    let pending = '';
    let lastChunk = this.host.now();
    const chunk = (done: boolean): void => {
      if (id === undefined) return;
      this.emit({ type: 'sampleChunk', inReplyTo: id, text: pending, done });
      pending = '';
      lastChunk = this.host.now();
    };
    const text = await t.sample(request, (token) => {
      pending += token;
      if (this.host.now() - lastChunk >= TIMING.chunkEveryMs) chunk(false);
    });
    chunk(true);
    this.emit({
      type: 'sample',
      step: t.updates,
      temperature: request.temperature,
      prime: request.prime,
      text,
      ...(request.label !== undefined ? { label: request.label } : {}),
      ...(id === undefined ? {} : { inReplyTo: id }),
    });
    return text;
  }

  private async save(path: string, ownFolder = path === this.start?.autosavePath): Promise<{ path: string; step: number }> {
    const t = this.need();
    await this.engine.writeCheckpoint(path, t.toCheckpoint(), ownFolder);
    if (ownFolder) this.lastSaved = t.updates;
    this.emit({ type: 'checkpointSaved', path, step: t.updates });
    return { path, step: t.updates };
  }

  private async finish(reason: 'steps' | 'time' | 'stopped'): Promise<void> {
    if (this.state === 'stopped' || this.state === 'finished' || !this.trainer) return;
    this.flushMetrics();
    const t = this.trainer;
    const trained = t.updates > this.firstUpdate;
    // The final score before the state: whoever sees a run finished can read its last validation.
    if (trained && this.tracker === null) this.validated(t.validate('full'));
    this.setState(reason === 'stopped' ? 'stopped' : 'finished');
    if (trained && this.start?.autosavePath && !this.diverged) await this.save(this.start.autosavePath);
    if (this.tracker) this.emit({ type: 'outcome', outcome: this.tracker.finish(reason === 'stopped' ? { stopped: 'stopped' } : {}) });
    this.emit({ type: 'finished', step: t.updates, reason });
    t.close();
  }

  /**
   * A slice that threw (a training thread died, the autosave could not be written) leaves the trainer
   * mid-update: the run stops there instead of stepping on, and its threads end. What was reported
   * and saved before stands.
   */
  private broken(): void {
    this.looping = false;
    this.flushMetrics();
    this.setState('stopped');
    this.trainer?.close();
  }

  private flushMetrics(): void {
    this.last.metrics = this.host.now();
    if (this.metrics.length) this.emit({ type: 'metrics', metrics: this.metrics.splice(0) });
    if (this.clips.length) this.emit({ type: 'clip', clips: this.clips.splice(0) });
  }

  private setState(state: 'running' | 'paused' | 'stopped' | 'finished'): void {
    this.state = state;
    this.emit({ type: 'state', state });
  }

  private need(): RunTrainer {
    if (!this.trainer) throw new RecurrentError('no model yet: the run has not started');
    return this.trainer;
  }

  /** Input problems are the user's to fix (kind `input`); anything else is a bug (kind `internal`). */
  private fail(e: unknown, id?: number): void {
    const input = e instanceof RecurrentError;
    const message = e instanceof Error ? e.message : String(e);
    this.emit({
      type: 'error',
      kind: input ? 'input' : 'internal',
      message: input ? message : `internal error in the training worker: ${message}`,
      ...(id === undefined ? {} : { inReplyTo: id }),
    });
  }

  private emit(e: Event): void {
    const event = { v: PROTOCOL_VERSION, ...e } as WorkerEvent;
    this.host.post(event, transferablesOf(event));
  }
}
/** CPU milliseconds this thread has used (Node 23.9 and later), or null where the runtime cannot say. */
function threadCpuMs(): number | null {
  const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof usage !== 'function') return null;
  const u = usage.call(process);
  return (u.user + u.system) / 1000;
}
