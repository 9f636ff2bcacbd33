// The dashboard's state: every run it knows (the current one and earlier runs on the same file),
// reduced from a RunHistory and the worker events that follow it. Metric streams are decimated as
// they arrive, so memory stays bounded however long the run; each update says which views changed.
import type { RunDescription, RunHistory, ToWebview, WorkerEvent } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { GateProbe, GradientFlow, StepMetrics, TranslationRow, ValidationMetrics } from '../../src/engine/measurements.js';
import type { ExperimentReport } from '../../src/engine/experiments/report.js';
import { DecimatedSeries, DEFAULT_CAPACITY } from './series.js';
import { asFloat32, asNumber } from './coerce.js';
import { describeRun } from './format.js';

export type ViewName = 'header' | 'loss' | 'scores' | 'gradNorm' | 'samples' | 'gates' | 'flow' | 'compare' | 'experiment';
export const VIEW_NAMES: readonly ViewName[] = [
  'header',
  'loss',
  'scores',
  'gradNorm',
  'samples',
  'gates',
  'flow',
  'compare',
  'experiment',
];

/** Newest samples kept per run; older ones scroll away. */
export const MAX_SAMPLES = 100;

export interface SampleEntry {
  step: number;
  temperature: number;
  prime: string;
  text: string;
  /** generate: the label the texts (one per line) were written for. */
  label?: string;
  /** Still streaming (sampleChunk events for the request `id`). */
  pending: boolean;
  id?: number;
}

export type RunState = RunHistory['state'];

export class RunModel {
  run: RunDescription | null = null;
  state: RunState = 'running';
  readonly loss: DecimatedSeries; // lossNats per update, flagged where the update was clipped
  readonly lr: DecimatedSeries;
  readonly gradNorm: DecimatedSeries; // global norm before clipping
  readonly validation: DecimatedSeries; // lossNats on held-out text
  /** Tasks: each score (protocol/scores.ts) of the updates' examples and of the held-out ones, by name. */
  readonly trainScores = new Map<string, DecimatedSeries>();
  readonly heldOutScores = new Map<string, DecimatedSeries>();
  /** classify: the confusion matrix of the latest held-out evaluation, and its update. */
  confusion: { step: number; labels: string[]; counts: number[][] } | null = null;
  /** translate: the held-out translations of the latest evaluation, and its update. */
  translations: { step: number; rows: TranslationRow[] } | null = null;
  last: StepMetrics | null = null;
  clipCount = 0;
  samples: SampleEntry[] = [];
  gradientFlow: GradientFlow | null = null;
  gates: GateProbe | null = null;
  error: { message: string; kind: string; step?: number } | null = null;
  finishedReason: string | null = null;

  constructor(
    readonly runId: string,
    public label: string,
    public file: string,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {
    this.loss = new DecimatedSeries(capacity);
    this.lr = new DecimatedSeries(capacity);
    this.gradNorm = new DecimatedSeries(capacity);
    this.validation = new DecimatedSeries(Math.max(4, Math.floor(capacity / 4) * 2));
  }

  /** The label shown in legends: the config when known, else what the extension called the run. */
  get title(): string {
    return describeRun(this.run, this.label);
  }

  addMetrics(ms: readonly StepMetrics[]): void {
    for (const raw of ms) {
      const m = { ...raw, lossNats: asNumber(raw.lossNats), gradNorm: asNumber(raw.gradNorm), lr: asNumber(raw.lr) };
      const t = Number.isFinite(m.elapsedMs) ? m.elapsedMs : (this.last?.elapsedMs ?? 0);
      this.loss.push(m.step, t, m.lossNats, m.clipped === true);
      this.lr.push(m.step, t, m.lr);
      this.gradNorm.push(m.step, t, m.gradNorm, m.clipped === true);
      if (m.clipped === true) this.clipCount++;
      if (raw.scores && typeof raw.scores === 'object')
        for (const [name, value] of Object.entries(raw.scores)) this.series(this.trainScores, name, false).push(m.step, t, asNumber(value));
      this.last = m;
    }
  }

  addValidation(v: ValidationMetrics): void {
    const ms = this.last !== null && this.last.step <= v.step ? this.last.elapsedMs : (this.last?.elapsedMs ?? 0);
    this.validation.push(v.step, ms, asNumber(v.lossNats));
    if (v.scores && typeof v.scores === 'object')
      for (const [name, value] of Object.entries(v.scores)) this.series(this.heldOutScores, name, true).push(v.step, ms, asNumber(value));
    const c = v.confusion;
    if (c && Array.isArray(c.labels) && Array.isArray(c.counts))
      this.confusion = {
        step: v.step,
        labels: c.labels.map(String),
        counts: c.counts.map((row) => (Array.isArray(row) ? row.map(asNumber) : [])),
      };
    if (Array.isArray(v.translations)) {
      const strings = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : []);
      const indices = (x: unknown): number[] => (Array.isArray(x) ? x.map(asNumber).filter(Number.isInteger) : []);
      this.translations = {
        step: v.step,
        rows: v.translations.map((r) => ({
          line: asNumber(r.line),
          source: String(r.source),
          target: strings(r.target),
          output: strings(r.output),
          wrong: indices(r.wrong),
          missed: indices(r.missed),
          edits: asNumber(r.edits),
        })),
      };
    }
  }

  /** Whether the run reports scores beside its loss (a task such as classify). */
  get hasScores(): boolean {
    return this.trainScores.size > 0 || this.heldOutScores.size > 0 || Object.keys(this.run?.examples?.baselineScores ?? {}).length > 0;
  }

  private series(map: Map<string, DecimatedSeries>, name: string, heldOut: boolean): DecimatedSeries {
    let s = map.get(name);
    if (s === undefined) {
      s = new DecimatedSeries(heldOut ? Math.max(4, Math.floor(this.capacity / 4) * 2) : this.capacity);
      map.set(name, s);
    }
    return s;
  }

  addSample(s: Omit<SampleEntry, 'pending'>, pending = false): void {
    if (s.id !== undefined) {
      const i = this.samples.findIndex((x) => x.id === s.id);
      if (i >= 0) {
        this.samples[i] = { ...s, pending };
        return;
      }
    }
    this.samples.unshift({ ...s, pending });
    if (this.samples.length > MAX_SAMPLES) this.samples.length = MAX_SAMPLES;
  }

  addChunk(id: number, text: string, done: boolean): void {
    const s = this.samples.find((x) => x.id === id);
    if (s === undefined) {
      this.addSample({ id, step: this.last?.step ?? 0, temperature: NaN, prime: '', text }, !done);
      return;
    }
    s.text += text;
    s.pending = !done;
  }
}

/** A report as the page can trust it: an object with the fields the Experiment view reads, or null. */
function experimentFrom(r: unknown): ExperimentReport | null {
  if (r === null || typeof r !== 'object') return null;
  const x = r as Partial<ExperimentReport>;
  if (typeof x.title !== 'string' || !Array.isArray(x.runs)) return null;
  return x as ExperimentReport;
}

function flowFrom(f: GradientFlow): GradientFlow {
  return { ...f, fromLast: (f.fromLast ?? []).map(asFloat32), perStep: (f.perStep ?? []).map(asFloat32) };
}

function gatesFrom(p: GateProbe): GateProbe {
  return {
    ...p,
    tokens: Array.isArray(p.tokens) ? p.tokens.map(String) : [],
    layers: (p.layers ?? []).map((l) => ({ ...l, gates: (l.gates ?? []).map((g) => ({ name: g.name, data: asFloat32(g.data) })) })),
  };
}

export class DashboardModel {
  readonly runs = new Map<string, RunModel>();
  currentId: string | null = null;
  /** The experiment the current run belongs to (Recurrent: New Experiment...), or null. */
  experiment: ExperimentReport | null = null;

  constructor(
    private readonly capacity = DEFAULT_CAPACITY,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  get current(): RunModel | null {
    return this.currentId === null ? null : (this.runs.get(this.currentId) ?? null);
  }

  /** Earlier runs, oldest first. */
  others(): RunModel[] {
    return [...this.runs.values()].filter((r) => r.runId !== this.currentId);
  }

  /** Applies one message from the extension; returns the views it changed (empty for a dropped message). */
  receive(message: ToWebview): Set<ViewName> {
    if (message === null || typeof message !== 'object' || message.v !== PROTOCOL_VERSION) {
      this.warn(
        `dashboard: dropped a message of protocol version ${JSON.stringify((message as { v?: unknown })?.v)}; expected ${PROTOCOL_VERSION}`,
      );
      return new Set();
    }
    if (message.type === 'history') {
      this.experiment = experimentFrom(message.experiment);
      return this.loadHistory(message.current, message.others ?? []);
    }
    if (message.type === 'event') return this.apply(message.runId, message.event);
    if (message.type === 'experiment') {
      this.experiment = experimentFrom(message.report);
      return new Set<ViewName>(['experiment']);
    }
    this.warn(`dashboard: dropped a message of unknown type ${JSON.stringify((message as { type?: unknown }).type)}`);
    return new Set();
  }

  loadHistory(current: RunHistory, others: readonly RunHistory[]): Set<ViewName> {
    this.runs.clear();
    for (const h of others) this.runs.set(h.runId, this.fromHistory(h));
    this.runs.set(current.runId, this.fromHistory(current));
    this.currentId = current.runId;
    return new Set(VIEW_NAMES);
  }

  private fromHistory(h: RunHistory): RunModel {
    const r = new RunModel(h.runId, h.label, h.file, this.capacity);
    r.run = h.run;
    r.state = h.state;
    r.addMetrics(h.metrics ?? []);
    for (const v of h.validation ?? []) r.addValidation(v);
    r.clipCount = Math.max(r.clipCount, (h.clips ?? []).length);
    // History lists samples oldest first; the model keeps them newest first.
    for (const s of h.samples ?? []) r.addSample(s);
    r.gradientFlow = h.gradientFlow ? flowFrom(h.gradientFlow) : null;
    r.gates = h.gates ? gatesFrom(h.gates) : null;
    return r;
  }

  apply(runId: string, event: WorkerEvent): Set<ViewName> {
    const dirty = new Set<ViewName>();
    let r = this.runs.get(runId);
    if (r === undefined) {
      // An event for a run we have no history of: the extension started a new run in this panel.
      r = new RunModel(runId, runId, '', this.capacity);
      this.runs.set(runId, r);
      if (this.currentId === null) this.currentId = runId;
    }
    const isCurrent = runId === this.currentId;
    const mark = (...views: ViewName[]): void => {
      for (const v of views) dirty.add(v);
    };
    switch (event.type) {
      case 'started':
        r.run = event.run;
        r.state = 'running';
        // A run loaded from a checkpoint brings its curve so far (a restarted one is drawn already).
        if (event.history && r.last === null) {
          r.addMetrics(event.history.metrics ?? []);
          for (const v of event.history.validation ?? []) r.addValidation(v);
        }
        mark('header', 'loss', 'scores', 'compare');
        break;
      case 'metrics':
        r.addMetrics(event.metrics ?? []);
        mark('header', 'loss', 'scores', 'gradNorm', 'compare');
        break;
      case 'validation':
        r.addValidation(event.metrics);
        mark('header', 'loss', 'scores', 'compare');
        break;
      case 'clip':
        mark('gradNorm');
        break;
      case 'sample':
        r.addSample({
          step: event.step,
          temperature: event.temperature,
          prime: event.prime,
          text: event.text,
          ...(typeof event.label === 'string' ? { label: event.label } : {}),
          ...(event.inReplyTo !== undefined ? { id: event.inReplyTo } : {}),
        });
        mark('samples');
        break;
      case 'sampleChunk':
        r.addChunk(event.inReplyTo, event.text, event.done);
        mark('samples');
        break;
      case 'gradientFlow':
        r.gradientFlow = flowFrom(event.flow);
        mark('flow', 'compare');
        break;
      case 'gates':
        r.gates = gatesFrom(event.probe);
        mark('gates');
        break;
      case 'state':
        r.state = event.state;
        mark('header');
        break;
      case 'error':
        r.error = { message: event.message, kind: event.kind, ...(event.step !== undefined ? { step: event.step } : {}) };
        mark('header');
        break;
      case 'finished':
        r.state = 'finished';
        r.finishedReason = event.reason;
        mark('header');
        break;
      case 'norms':
      case 'checkpointSaved':
      case 'reply':
      case 'recall': // an experiment's measurements reach the page in its report
      case 'outcome':
        break;
      default:
        this.warn(`dashboard: ignored an event of unknown type ${JSON.stringify((event as { type?: unknown }).type)}`);
    }
    if (!isCurrent) {
      // Another run's change only shows where runs are compared.
      const show = new Set<ViewName>();
      if (dirty.has('loss') || dirty.has('flow') || dirty.has('compare')) {
        show.add('compare');
        show.add('flow');
      }
      return show;
    }
    return dirty;
  }
}
