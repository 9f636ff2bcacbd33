// Numbers and run descriptions as the dashboard shows them.
import type { RunDescription } from '../../src/protocol/messages.js';

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

/** Four significant digits, exponent form for very small or large values; NaN and infinities by name. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${(ms / 1000).toFixed(1)}s`;
}

/** A short label naming what distinguishes runs on the same file: "LSTM 128×2, adam lr 0.002". */
export function describeRun(run: RunDescription | null, fallback: string): string {
  if (run === null) return fallback;
  const m = run.model;
  const layers = m.layers > 1 ? `×${m.layers}` : '';
  const emb = m.embedding > 0 ? `, emb ${m.embedding}` : '';
  const threads = run.train.threads > 1 ? `, ${run.train.threads} threads` : '';
  return `${m.cell.toUpperCase()} ${m.hidden}${layers}${emb}, ${run.train.optimizer} lr ${formatValue(run.train.lr)}${threads}`;
}
