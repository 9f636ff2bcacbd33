// The dashboard webview is untrusted: a message from it is checked field by field before the
// extension acts on it. A message of the wrong shape is dropped with a warning (logged, never thrown),
// so a stale or tampered webview can do nothing but be ignored. Accepted messages are rebuilt from
// the checked fields only, so nothing unexpected rides along to the worker.
import { PROTOCOL_VERSION, type FromWebview } from './messages.js';

/** Limits on what the dashboard may ask for; beyond them the request is dropped, not clamped. */
export const WEBVIEW_LIMITS = {
  maxTextLength: 10_000,
  minTemperature: 0.01,
  maxTemperature: 10,
  maxSampleLength: 100_000,
  maxLearningRate: 100,
  maxSampleCount: 100,
} as const;

type Warn = (message: string) => void;

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function text(m: Record<string, unknown>, key: string, warn: Warn): string | undefined {
  const v = m[key];
  if (typeof v !== 'string') {
    warn(`${key} must be a string, got ${describe(v)}`);
    return undefined;
  }
  if (v.length > WEBVIEW_LIMITS.maxTextLength) {
    warn(`${key} must be at most ${WEBVIEW_LIMITS.maxTextLength} characters, got ${v.length}`);
    return undefined;
  }
  return v;
}

function number(m: Record<string, unknown>, key: string, lo: number, hi: number, warn: Warn, integer = false): number | undefined {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    warn(`${key} must be a ${integer ? 'whole number' : 'number'} from ${lo} to ${hi}, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/**
 * Checks a message posted by the dashboard. Returns it typed, or undefined after calling `warn` once
 * with the reason. Never throws, whatever `raw` is.
 */
export function parseFromWebview(raw: unknown, warn: Warn): FromWebview | undefined {
  const problems: string[] = [];
  const note: Warn = (s) => {
    problems.push(s);
  };
  const result = check(raw, note);
  if (result === undefined) {
    const type = isRecord(raw) && typeof raw['type'] === 'string' ? ` "${raw['type'].slice(0, 40)}"` : '';
    warn(`dropped a dashboard message${type}: ${problems.join('; ') || 'unknown shape'}`);
  }
  return result;
}

function check(raw: unknown, warn: Warn): FromWebview | undefined {
  if (!isRecord(raw)) {
    warn(`expected an object, got ${describe(raw)}`);
    return undefined;
  }
  if (raw['v'] !== PROTOCOL_VERSION) {
    warn(`protocol version must be ${PROTOCOL_VERSION}, got ${describe(raw['v'])}`);
    return undefined;
  }
  const v = PROTOCOL_VERSION;
  const L = WEBVIEW_LIMITS;
  switch (raw['type']) {
    case 'ready':
      return { v, type: 'ready' };
    case 'pause':
      return { v, type: 'pause' };
    case 'resume':
      return { v, type: 'resume' };
    case 'stop':
      return { v, type: 'stop' };
    case 'sample': {
      const prime = text(raw, 'prime', warn);
      const temperature = number(raw, 'temperature', L.minTemperature, L.maxTemperature, warn);
      const length = number(raw, 'length', 1, L.maxSampleLength, warn, true);
      const label = raw['label'] === undefined ? null : text(raw, 'label', warn);
      const count = raw['count'] === undefined ? null : number(raw, 'count', 1, L.maxSampleCount, warn, true);
      if (prime === undefined || temperature === undefined || length === undefined || label === undefined || count === undefined)
        return undefined;
      return { v, type: 'sample', prime, temperature, length, ...(label !== null ? { label } : {}), ...(count !== null ? { count } : {}) };
    }
    case 'setTemperature': {
      const temperature = number(raw, 'temperature', L.minTemperature, L.maxTemperature, warn);
      return temperature === undefined ? undefined : { v, type: 'setTemperature', temperature };
    }
    case 'setLearningRate': {
      const lr = number(raw, 'lr', Number.MIN_VALUE, L.maxLearningRate, warn);
      return lr === undefined ? undefined : { v, type: 'setLearningRate', lr };
    }
    case 'probeGates': {
      const t = text(raw, 'text', warn);
      const label = raw['label'] === undefined ? null : text(raw, 'label', warn);
      if (t === undefined || label === undefined) return undefined;
      if (t.length === 0) {
        warn('text must not be empty');
        return undefined;
      }
      return { v, type: 'probeGates', text: t, ...(label !== null ? { label } : {}) };
    }
    default:
      warn(`unknown message type ${describe(raw['type'])}`);
      return undefined;
  }
}
