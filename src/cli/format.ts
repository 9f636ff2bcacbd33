// Human-readable figures for terminal output.
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '--';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The kernels an update runs on, for the training line: they set its speed, and the runtime picks them. */
export function formatKernels(set: 'simd' | 'relaxed-simd' | undefined): string {
  if (set === 'relaxed-simd') return 'WebAssembly relaxed SIMD kernels';
  if (set === 'simd') return 'WebAssembly SIMD kernels';
  return 'JavaScript reference kernels (no WebAssembly SIMD here)';
}
