// Every request the extension makes of a run's worker, declared once as a method: its parameters are
// the request's, its return type the reply's. The extension's Run.request() and the worker's answers
// (runLoop.ts) are both typed from this interface, and REQUEST_SHAPES beside it is what workerMessages.ts
// checks each request and reply against when it arrives. A new request is a method and a shape here,
// and its answer in runLoop.ts.
//
// What a request changes for everyone (a sample for the dashboard's list, a gate probe for its heatmap,
// a checkpoint written) also goes out as the event that reports it, whoever asked; the reply is for the
// one who asked.
import type { SamplingRequest, EditorProbe, FileHeat, LinePrediction } from './messages.js';

export interface WorkerRequests {
  /** Generates from the current weights; the text streams as `sampleChunk` events before the reply. */
  sample(request: SamplingRequest): string;
  /** Writes a checkpoint of the run as it is now. */
  save(path: string): { path: string; step: number };
  /**
   * Probes the gates over `text` (generate: read from the state of `label`; '' for its first); the probe
   * comes as a `gates` event. An empty text probes the run's own example (tasks).
   */
  probeGates(text: string, label: string): void;
  /** Per-token loss and top-k, gradient reach and gate saturation of `text`, for the editor. */
  /**
   * Without `reach` the probe's gradient reach is null (the loss heat needs the losses only). cpuMs: the
   * worker thread's CPU time for it, where the runtime says (Node 23.9+).
   */
  probeEditor(text: string, k: number, reach: boolean): { probe: EditorProbe; step: number; cpuMs?: number };
  /** UTF-16 [start, end) in the training text of each token span [a, b) (flat pairs); -1, -1 for spans outside it. */
  locateTokens(spans: number[]): number[];
  /** Tasks: the model's prediction for each line [input, output] of a task file, for the editor. */
  predictLines(lines: Array<[string, string]>): LinePrediction[];
  /**
   * The loss of every token of `text` (a whole file) for the editor's heat, computed in slices between
   * the worker's other requests, which it lets pass; training waits for it. A newer probeHeat supersedes one in progress.
   */
  probeHeat(text: string): FileHeat;
}

export type RequestMethod = keyof WorkerRequests;
export type RequestArgs<K extends RequestMethod> = Parameters<WorkerRequests[K]>;
export type RequestResult<K extends RequestMethod> = ReturnType<WorkerRequests[K]>;

/** What a value must be on arrival: a JavaScript type, an array, nothing, or an object with these fields. */
export type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'nothing';
export type Shape = Record<string, Kind | `${Exclude<Kind, 'nothing'>}?`>;

/** One Kind per parameter, so the arity is checked too. */
type ArgKinds<T extends unknown[]> = { [I in keyof T]: Kind };

export const REQUEST_SHAPES: { [K in RequestMethod]: { args: ArgKinds<RequestArgs<K>>; result: Kind | Shape } } = {
  sample: { args: ['object'], result: 'string' },
  save: { args: ['string'], result: { path: 'string', step: 'number' } },
  probeGates: { args: ['string', 'string'], result: 'nothing' },
  probeEditor: { args: ['string', 'number', 'boolean'], result: { probe: 'object', step: 'number', cpuMs: 'number?' } },
  locateTokens: { args: ['array'], result: 'array' },
  predictLines: { args: ['array'], result: 'array' },
  probeHeat: {
    args: ['string'],
    result: { step: 'number', offsets: 'object', lossNats: 'object', unknown: 'array', wallMs: 'number', cpuMs: 'number?' },
  },
};
