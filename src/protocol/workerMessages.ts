// Checks on the messages between the extension and its worker. Both ends are ours, but they are built
// and loaded separately (an old dist/worker.cjs beside a new extension, a worker that dies mid-message),
// so every message is checked for version and shape on arrival; a bad one is reported, never acted on.
// Requests and replies are checked against the shapes their method declares (workerRequests.ts).
import { PROTOCOL_VERSION, type WorkerCommand, type WorkerEvent } from './messages.js';
import { REQUEST_SHAPES, type Kind, type RequestMethod, type Shape } from './workerRequests.js';

export type Checked<T> = { ok: true; message: T } | { ok: false; problem: string };

const EVENT_SHAPES: Record<WorkerEvent['type'], Shape> = {
  started: { run: 'object', resumedFromStep: 'number', history: 'object?' },
  metrics: { metrics: 'object' },
  validation: { metrics: 'object' },
  clip: { clips: 'object' },
  sample: { step: 'number', temperature: 'number', prime: 'string', text: 'string', label: 'string?', inReplyTo: 'number?' },
  sampleChunk: { inReplyTo: 'number', text: 'string', done: 'boolean' },
  gradientFlow: { flow: 'object' },
  gates: { probe: 'object' },
  norms: { step: 'number', tensors: 'object' },
  state: { state: 'string' },
  checkpointSaved: { path: 'string', step: 'number' },
  error: { message: 'string', kind: 'string', step: 'number?', inReplyTo: 'number?' },
  finished: { step: 'number', reason: 'string' },
  gradientSpike: { spikes: 'object' },
  recall: { measure: 'object' },
  outcome: { outcome: 'object' },
  reply: { inReplyTo: 'number', method: 'string' },
};

const COMMAND_SHAPES: Record<WorkerCommand['type'], Shape> = {
  start: {
    text: 'string',
    source: 'string?',
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
    experiment: 'object?',
  },
  pause: {},
  resume: {},
  stop: {},
  set: { lr: 'number?', temperature: 'number?' },
  request: { id: 'number', method: 'string', args: 'array' },
  crash: { how: 'string' },
};

const METHODS = Object.keys(REQUEST_SHAPES) as RequestMethod[];

const ENUMS: Record<string, Record<string, readonly string[]>> = {
  state: { state: ['running', 'paused', 'stopped', 'finished'] },
  error: { kind: ['input', 'nonFinite', 'internal'] },
  finished: { reason: ['steps', 'time', 'stopped', 'nonFinite'] },
  start: { tokenizer: ['char', 'word'] },
  crash: { how: ['throw', 'exit', 'oom'] },
  request: { method: METHODS },
  reply: { method: METHODS },
};

/** The Kind a value is; `object` also covers arrays. */
function fits(value: unknown, kind: Kind): boolean {
  if (kind === 'nothing') return value === undefined;
  if (kind === 'array') return Array.isArray(value);
  if (kind === 'object') return typeof value === 'object' && value !== null;
  return typeof value === kind && (kind !== 'number' || Number.isFinite(value));
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** Checks `m`'s fields against `shape`; the first problem, or null. */
function checkFields(m: Record<string, unknown>, shape: Shape, what: string): string | null {
  for (const [field, kind] of Object.entries(shape)) {
    const optional = kind.endsWith('?');
    const want = (optional ? kind.slice(0, -1) : kind) as Kind;
    const value = m[field];
    if (value === undefined && optional) continue;
    if (!fits(value, want)) return `${what}: ${field} should be a ${want}, got ${describe(value)}`;
  }
  return null;
}

/** A request's arguments, or a reply's result, against what its method declares. */
function checkRequest(m: Record<string, unknown>, what: string): string | null {
  const method = m.method as RequestMethod;
  const declared = REQUEST_SHAPES[method];
  if (m.type === 'request') {
    const args = m.args as unknown[];
    const kinds = declared.args as readonly Kind[];
    if (args.length !== kinds.length) return `${what} ${method}: expected ${kinds.length} argument(s), got ${args.length}`;
    const i = kinds.findIndex((k, i) => !fits(args[i], k));
    return i < 0 ? null : `${what} ${method}: argument ${i + 1} should be a ${kinds[i]}, got ${describe(args[i])}`;
  }
  const result = declared.result;
  if (typeof result === 'string')
    return fits(m.result, result)
      ? null
      : `${what} ${method}: result should be ${result === 'nothing' ? 'nothing' : `a ${result}`}, got ${describe(m.result)}`;
  if (!fits(m.result, 'object')) return `${what} ${method}: result should be a object, got ${describe(m.result)}`;
  return checkFields(m.result as Record<string, unknown>, result, `${what} ${method} result`);
}

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
  const wrong = checkFields(m, shapes[type]!, `${what} "${type}"`);
  if (wrong) return { ok: false, problem: wrong };
  for (const [field, allowed] of Object.entries(ENUMS[type] ?? {})) {
    const value = m[field];
    if (value !== undefined && !allowed.includes(value as string)) {
      return { ok: false, problem: `${what} "${type}": ${field} should be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}` };
    }
  }
  if (type === 'request' || type === 'reply') {
    const problem = checkRequest(m, what);
    if (problem) return { ok: false, problem };
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
