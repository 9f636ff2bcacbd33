// Option parsing shared by the subcommands: node's parseArgs for the grammar, and typed readers
// that turn a nonsense value into one clear line instead of a NaN that surfaces later.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RecurrentError } from '../engine/errors.js';

export type Options = ParseArgsConfig['options'];
export type Values = Record<string, string | boolean | undefined>;

export function parse(argv: string[], options: NonNullable<Options>, positionals: string[]): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs' messages name the option already; keep their first line, which says what is wrong.
    const first = String((e as Error).message)
      .split('\n')[0]!
      .split('. To specify')[0]!;
    throw new RecurrentError(/ambiguous/.test(first) ? `${first.replace(/\.$/, '')}: write a negative value as --option=-1` : first);
  }
  if (parsed.positionals.length !== positionals.length) {
    const want = positionals.map((p) => p.toUpperCase()).join(' ');
    throw new RecurrentError(
      `expected ${want || 'no arguments'}, got ${parsed.positionals.length ? parsed.positionals.map((p) => JSON.stringify(p)).join(' ') : 'none'}`,
    );
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

function raw(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intOption(values: Values, name: string, lo: number, hi: number): number | undefined {
  const s = raw(values, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < lo || n > hi) {
    throw new RecurrentError(`--${name} must be a whole number from ${lo} to ${hi}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** `--name N` or `--name auto`: auto is the caller's to resolve, since only it knows what the machine and run allow. */
export function intOrAutoOption(values: Values, name: string, lo: number, hi: number): number | 'auto' | undefined {
  const s = raw(values, name);
  if (s === undefined || s.trim() === 'auto') return s === undefined ? undefined : 'auto';
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < lo || n > hi) {
    throw new RecurrentError(`--${name} must be auto or a whole number from ${lo} to ${hi}, got ${JSON.stringify(s)}`);
  }
  return n;
}

export function numberOption(values: Values, name: string, lo: number, hi: number): number | undefined {
  const s = raw(values, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) {
    throw new RecurrentError(`--${name} must be a number from ${lo} to ${hi}, got ${JSON.stringify(s)}`);
  }
  return n;
}

export function choiceOption<T extends string>(values: Values, name: string, choices: readonly T[]): T | undefined {
  const s = raw(values, name);
  if (s === undefined) return undefined;
  if (!choices.includes(s as T)) throw new RecurrentError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(s)}`);
  return s as T;
}

export function stringOption(values: Values, name: string): string | undefined {
  return raw(values, name);
}

/** `--time 90`, `--time 90s`, `--time 5m`, `--time 1h` -> milliseconds. */
export function durationOption(values: Values, name: string): number | undefined {
  const s = raw(values, name);
  if (s === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(s);
  if (!m || Number(m[1]) <= 0) throw new RecurrentError(`--${name} must be a duration such as 30, 90s, 5m or 1h, got ${JSON.stringify(s)}`);
  return Number(m[1]) * { s: 1000, m: 60000, h: 3600000 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}
