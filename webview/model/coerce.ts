// Typed arrays arrive intact through VS Code's postMessage, but a history that went through JSON
// (a recorded session, a serialised state) has them as plain arrays or as {"0": x, "1": y, ...}
// objects. The dashboard accepts all three and draws the same thing.

export function asFloat32(x: unknown): Float32Array {
  if (x instanceof Float32Array) return x;
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return Float32Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return Float32Array.from(x, (v) => (typeof v === 'number' ? v : v === null ? NaN : Number(v)));
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const n = Object.keys(o).length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = o[String(i)];
      out[i] = typeof v === 'number' ? v : NaN;
    }
    return out;
  }
  return new Float32Array(0);
}

/** JSON has no NaN or Infinity; a recorded stream writes them as null or as these strings. */
export function asNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x === 'NaN' || x === null) return NaN;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  return NaN;
}
