// Every message that crosses a boundary: worker -> extension (events), extension -> worker (commands),
// extension -> dashboard webview and webview -> extension. One interface per message, discriminated by
// `type`, gathered into one union per direction, so a message that is not in the union cannot be sent.
// Requests to the worker and their replies are derived from one table, workerRequests.ts: a request
// carries `id`, its reply names it in `inReplyTo`.
import type { ModelConfig, TrainConfig, TokenizerKind } from '../engine/config.js';
import type {
  ClipEvent,
  GateProbe,
  GradientFlow,
  StepMetrics,
  TensorNorms,
  TokenLossProbe,
  ValidationMetrics,
} from '../engine/measurements.js';
import type { GradientReachProbe } from '../engine/gradientReach.js';
import type { Segment } from '../engine/history.js';
import type { RunOutcome } from '../engine/experiments/outcome.js';
import type { RecallMeasure } from '../engine/experiments/recallProbe.js';
import type { ExperimentReport } from '../engine/experiments/report.js';
import type { TrackedRun } from '../engine/experiments/plan.js';
import type { RequestArgs, RequestMethod, RequestResult } from './workerRequests.js';

export const PROTOCOL_VERSION = 2;

export interface SamplingRequest {
  prime: string;
  /** Tokens to write at most (generate: per text). */
  length: number;
  temperature: number;
  topK: number;
  topP: number;
  greedy: boolean;
  seed: number;
  /** generate: the label to write for; its texts come one per line. */
  label?: string;
  /** generate: how many texts (default 1), each with the next seed. */
  count?: number;
}

export interface RunDescription {
  model: ModelConfig;
  train: TrainConfig;
  tokenizer: TokenizerKind;
  vocabSize: number;
  parameterCount: number;
  /** Parameters per tensor, for the header and Show Model Info. */
  tensors: Array<{ name: string; shape: number[] }>;
  trainTokens: number;
  validationTokens: number;
  /**
   * The loss of a model that learned nothing, bits per unit of the loss: the unigram entropy of the
   * training tokens (lm, generate), the entropy of the training labels (classify, per example).
   */
  unigramBits: number;
  /** Tasks on a file of examples (model.task is not lm): what the run trains on and how it is scored. */
  examples?: {
    train: number;
    heldOut: number;
    /** What one unit of the loss is: an output token (generate), or an example (classify). */
    lossPer: 'token' | 'example';
    /** Scores of a model that learned nothing (classify: always the most frequent training label). */
    baselineScores: Record<string, number>;
    /** What that model is, in words ("always female"). */
    baseline: string;
  };
  /** Where the run trained before and now, as its checkpoint's history says (here, or in PyTorch's train.py); the last is this run's. */
  segments?: Segment[];
}

/**
 * What a task model makes of one line of a task file (input<TAB>output): its prediction for the input,
 * for the editor to show after the line and to compare with the line's output.
 */
export interface LinePrediction {
  /** The model's output for the input: a label (classify; generate by Bayes' rule from its likelihoods), or a translation (translate, greedy). */
  output: string;
  /** The label's probability; NaN for a translation. */
  probability: number;
  /** The alternatives, most probable first (at most LINE_ALTERNATIVES). */
  ranked: Array<{ output: string; probability: number }>;
  /** translate: edits (insertions, deletions, substitutions) from the output to the line's output, and that output's tokens; absent for a line without one. */
  distance?: number;
  targetTokens?: number;
  /** generate: bits per output token of the line's text under its own label (NaN for a label the model lacks). */
  bitsPerToken?: number;
  /** Characters of the input the model never saw, left out. */
  unknown: number;
  /** The run held this example out of training: the model never learned from it. */
  heldOut: boolean;
}

/** Alternatives a line prediction lists. */
export const LINE_ALTERNATIVES = 5;

// ---- worker -> extension -------------------------------------------------------------------------

export interface StartedEvent {
  type: 'started';
  run: RunDescription;
  resumedFromStep: number;
  /** A resumed run's curve so far, from its checkpoint (engine/history.ts): evenly spaced updates, and its validations. */
  history?: { metrics: StepMetrics[]; validation: ValidationMetrics[] };
}
export interface MetricsEvent {
  type: 'metrics';
  metrics: StepMetrics[];
}
export interface ValidationEvent {
  type: 'validation';
  metrics: ValidationMetrics;
}
export interface ClipEventMessage {
  type: 'clip';
  clips: ClipEvent[];
}
export interface SampleEvent {
  type: 'sample';
  step: number;
  temperature: number;
  prime: string;
  text: string;
  /** generate: the label the texts (one per line) were written for. */
  label?: string;
  /** The sample request whose streamed chunks this ends, when one asked for it. */
  inReplyTo?: number;
}
/** Streaming sample: one or more tokens of the sample `inReplyTo`. */
export interface SampleChunkEvent {
  type: 'sampleChunk';
  inReplyTo: number;
  text: string;
  done: boolean;
}
export interface GradientFlowEvent {
  type: 'gradientFlow';
  flow: GradientFlow;
}
export interface GatesEvent {
  type: 'gates';
  probe: GateProbe;
}
export interface NormsEvent {
  type: 'norms';
  step: number;
  tensors: TensorNorms[];
}
export interface StateEvent {
  type: 'state';
  state: 'running' | 'paused' | 'stopped' | 'finished';
}
export interface CheckpointSavedEvent {
  type: 'checkpointSaved';
  path: string;
  step: number;
}
export interface ErrorEvent {
  type: 'error';
  message: string;
  /** `nonFinite`: the loss became NaN/inf at `step`; training stopped and the last good checkpoint stands. */
  kind: 'input' | 'nonFinite' | 'internal';
  step?: number;
  inReplyTo?: number;
}
export interface FinishedEvent {
  type: 'finished';
  step: number;
  reason: 'steps' | 'time' | 'stopped' | 'nonFinite';
}
/** Per-token loss and top-k, gradient reach and gate saturation of one text; reach is null when the engine cannot measure it. */
export interface EditorProbe {
  tokenLoss: TokenLossProbe;
  reach: GradientReachProbe | null;
  /** The text of every token id in tokenLoss.topIds (the extension has no vocabulary). */
  topTokens: Record<number, string>;
  /**
   * Indices of tokens the model never saw (characters absent from its training text). The model reads on
   * from a fresh state after each, so neither it nor the token after it has a prediction: their lossNats
   * are NaN, their topIds -1 and their reach 0. Absent when every token is known.
   */
  unknown?: number[];
}
/** The loss of every token of a whole file (workerRequests.ts probeHeat): the editor's heat beyond the visible text. */
export interface FileHeat {
  /** The update the weights were at. */
  step: number;
  /** [N+1] UTF-16 start of each token of the text, then its length. */
  offsets: Int32Array;
  /** [N-1]: lossNats[i - 1] is token i's loss in nats, NaN where there is no prediction (see EditorProbe.unknown). */
  lossNats: Float32Array;
  /** Indices of tokens the model never saw. */
  unknown: number[];
  /** How long the worker computed: wall-clock, and CPU on its thread where the runtime says (Node 23.9+). */
  wallMs: number;
  cpuMs?: number;
}
/** Unclipped updates (clipping off) whose norm spiked: the windows that produced them, as a clip event would give. */
export interface GradientSpikeEvent {
  type: 'gradientSpike';
  spikes: ClipEvent[];
}
/** An experiment run's recall on its held-out lines (experiments/recallProbe.ts), as it trains. */
export interface RecallEvent {
  type: 'recall';
  measure: RecallMeasure;
}
/** What an experiment run came to (experiments/outcome.ts), sent just before `finished`, or when it stops on a non-finite loss. */
export interface OutcomeEvent {
  type: 'outcome';
  outcome: RunOutcome;
}
/** The answer to request `inReplyTo`, as workerRequests.ts declares it for `method`; a failed request gets an `error` event instead. */
export type ReplyEvent = {
  [K in RequestMethod]: { type: 'reply'; inReplyTo: number; method: K; result: RequestResult<K> };
}[RequestMethod];

export type WorkerEvent = { v: typeof PROTOCOL_VERSION } & (
  | StartedEvent
  | MetricsEvent
  | ValidationEvent
  | ClipEventMessage
  | SampleEvent
  | SampleChunkEvent
  | GradientFlowEvent
  | GatesEvent
  | NormsEvent
  | StateEvent
  | CheckpointSavedEvent
  | ErrorEvent
  | FinishedEvent
  | GradientSpikeEvent
  | RecallEvent
  | OutcomeEvent
  | ReplyEvent
);

// ---- extension -> worker -------------------------------------------------------------------------

export interface StartCommand {
  type: 'start';
  text: string;
  /** The file's name, for messages about its lines (a task file's line 12). */
  source?: string;
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  tokenizer: TokenizerKind;
  /** Stop after this many updates or milliseconds; 0 = no limit. */
  maxSteps: number;
  maxMs: number;
  /** Resume exactly from this checkpoint file (optimizer state, step, random state). */
  resumeFrom?: string;
  /** Auto-save a checkpoint here every `autosaveEveryMs`. */
  autosavePath?: string;
  autosaveEveryMs: number;
  /** Sample this many tokens every `sampleEveryMs` for the dashboard. */
  sampleEveryMs: number;
  sampleLength: number;
  temperature: number;
  /** Word tokenizer: vocabulary cap. */
  maxVocab?: number;
  /** Load (or create) the model but do not train until `resume`: a loaded checkpoint for sampling. */
  paused?: boolean;
  /** A run of an experiment: what to measure as it trains, and the checkpoint whose weights it starts from (a curriculum). */
  experiment?: { run: TrackedRun; initFrom?: string };
}
export interface PauseCommand {
  type: 'pause';
}
export interface ResumeCommand {
  type: 'resume';
}
export interface StopCommand {
  type: 'stop';
}
export interface SetCommand {
  type: 'set';
  lr?: number;
  temperature?: number;
}
/** A request of workerRequests.ts: `method` called with `args`, answered by a `reply` naming `id`. */
export type RequestCommand = {
  [K in RequestMethod]: { type: 'request'; id: number; method: K; args: RequestArgs<K> };
}[RequestMethod];
/** Test-only: make the worker fail the way real workers fail, so recovery can be tested. */
export interface CrashCommand {
  type: 'crash';
  how: 'throw' | 'exit' | 'oom';
}

export type WorkerCommand = { v: typeof PROTOCOL_VERSION } & (
  StartCommand | PauseCommand | ResumeCommand | StopCommand | SetCommand | RequestCommand | CrashCommand
);

// ---- extension -> dashboard webview --------------------------------------------------------------

/** A run's whole history, finished or running, sent when a dashboard opens or reloads. */
export interface RunHistory {
  runId: string;
  label: string;
  file: string;
  run: RunDescription | null;
  metrics: StepMetrics[];
  validation: ValidationMetrics[];
  clips: ClipEvent[];
  samples: Array<{ step: number; temperature: number; prime: string; text: string; label?: string }>;
  gradientFlow: GradientFlow | null;
  gates: GateProbe | null;
  state: StateEvent['state'];
}

export type ToWebview = { v: typeof PROTOCOL_VERSION } & (
  | { type: 'history'; current: RunHistory; others: RunHistory[]; experiment?: ExperimentReport | null }
  | { type: 'event'; runId: string; event: WorkerEvent }
  /** The experiment the current run belongs to, whenever its report changes (a run starts or ends, the verdict). */
  | { type: 'experiment'; report: ExperimentReport }
);

// ---- dashboard webview -> extension (untrusted: validated in webviewMessages.ts) ----------------

export type FromWebview = { v: typeof PROTOCOL_VERSION } & (
  | { type: 'ready' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'sample'; prime: string; temperature: number; length: number; label?: string; count?: number }
  | { type: 'setTemperature'; temperature: number }
  | { type: 'setLearningRate'; lr: number }
  | { type: 'probeGates'; text: string; label?: string }
);
