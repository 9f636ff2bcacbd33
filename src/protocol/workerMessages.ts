// Checks on the messages between the extension and its worker. Both ends are ours, but they are built
// and loaded separately (an old dist/worker.cjs beside a new extension, a worker that dies mid-message),
// so every message is checked for version and shape on arrival; a bad one is reported, never acted on.
import { PROTOCOL_VERSION, type WorkerCommand, type WorkerEvent } from './messages.js';

export type Checked<T> = { ok: true; message: T } | { ok: false; problem: string };

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'string?' | 'number?' | 'boolean?' | 'object?'>;

const EVENT_SHAPES: Record<WorkerEvent['type'], Shape> = {
  started: { run: 'object', resumedFromStep: 'number' },
  metrics: { metrics: 'object' },
  validation: { metrics: 'object' },
  clip: { clips: 'object' },
  sample: { step: 'number', temperature: 'number', prime: 'string', text: 'string', inReplyTo: 'number?' },
  sampleChunk: { inReplyTo: 'number', text: 'string', done: 'boolean' },
  gradientFlow: { flow: 'object' },
  gates: { probe: 'object', inReplyTo: 'number?' },
  tokenLoss: { probe: 'object', step: 'number', inReplyTo: 'number?' },
  norms: { step: 'number', tensors: 'object' },
  state: { state: 'string' },
  checkpointSaved: { path: 'string', step: 'number', inReplyTo: 'number?' },
  error: { message: 'string', kind: 'string', step: 'number?', inReplyTo: 'number?' },
  finished: { step: 'number', reason: 'string' },
  // editor (issue 6)
  editorProbe: { probe: 'object', step: 'number', inReplyTo: 'number' },
  tokenLocations: { offsets: 'object', inReplyTo: 'number' },
  gradientSpike: { spikes: 'object' },
};

const COMMAND_SHAPES: Record<WorkerCommand['type'], Shape> = {
  start: {
    text: 'string',
    model: 'object',
    train: 'object',
    tokenizer: 'string',
    maxSteps: 'number',
    maxMs: 'number',
    resumeFrom: 'string?',
    autosavePath: 'string?',
    autosaveEveryMs: 'number',
    sampleEveryMs: 'number',
    sampleLength: 'number',
    temperature: 'number',
    maxVocab: 'number?',
    paused: 'boolean?',
  },
  pause: {},
  resume: {},
  stop: {},
  set: { lr: 'number?', temperature: 'number?' },
  sample: { id: 'number', request: 'object' },
  probeGates: { id: 'number', text: 'string' },
  probeTokenLoss: { id: 'number', text: 'string', k: 'number' },
  save: { id: 'number', path: 'string' },
  crash: { how: 'string' },
  // editor (issue 6)
  probeEditor: { id: 'number', text: 'string', k: 'number' },
  locateTokens: { id: 'number', spans: 'object' },
};

const ENUMS: Record<string, Record<string, readonly string[]>> = {
  state: { state: ['running', 'paused', 'stopped', 'finished'] },
  error: { kind: ['input', 'nonFinite', 'internal'] },
  finished: { reason: ['steps', 'time', 'stopped', 'nonFinite'] },
  start: { tokenizer: ['char', 'word'] },
  crash: { how: ['throw', 'exit', 'oom'] },
};

function check<T extends { type: string }>(
  raw: unknown,
  shapes: Record<string, Shape>,
  what: string,
): Checked<{ v: typeof PROTOCOL_VERSION } & T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problem: `${what} is not an object` };
  const m = raw as Record<string, unknown>;
  if (m.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      problem: `${what} speaks protocol version ${JSON.stringify(m.v)}, expected ${PROTOCOL_VERSION}: rebuild the extension (npm run build)`,
    };
  }
  const type = m.type;
  if (typeof type !== 'string' || !Object.hasOwn(shapes, type))
    return { ok: false, problem: `${what} has unknown type ${JSON.stringify(type)}` };
  for (const [field, kind] of Object.entries(shapes[type]!)) {
    const optional = kind.endsWith('?');
    const want = optional ? kind.slice(0, -1) : kind;
    const value = m[field];
    if (value === undefined && optional) continue;
    const got = value === null ? 'null' : typeof value;
    if (got !== want || (want === 'number' && !Number.isFinite(value))) {
      return { ok: false, problem: `${what} "${type}": ${field} should be a ${want}, got ${value === undefined ? 'nothing' : got}` };
    }
    const allowed = ENUMS[type]?.[field];
    if (allowed && !allowed.includes(value as string)) {
      return { ok: false, problem: `${what} "${type}": ${field} should be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}` };
    }
  }
  return { ok: true, message: m as { v: typeof PROTOCOL_VERSION } & T };
}

/** Checks a message that arrived from the worker. */
export function checkWorkerEvent(raw: unknown): Checked<WorkerEvent> {
  return check(raw, EVENT_SHAPES, 'worker event') as Checked<WorkerEvent>;
}

/** Checks a message that arrived at the worker. */
export function checkWorkerCommand(raw: unknown): Checked<WorkerCommand> {
  return check(raw, COMMAND_SHAPES, 'worker command') as Checked<WorkerCommand>;
}

/** The request a reply answers, if it is a reply. */
export function replyTo(e: WorkerEvent): number | undefined {
  return 'inReplyTo' in e ? e.inReplyTo : undefined;
}
