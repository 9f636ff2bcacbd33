// The fused gate nonlinearities of one time step, in plain TypeScript: the reference that the
// WebAssembly twins (wasm/gates.ts, through backend.ts) are tested against. Offsets are in floats.

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * nn.LSTM's step for b rows, gates i, f, g, o (see lstm.ts): act [b, 4H] at a0 holds pre-activations
 * and receives the activated gates; c_p = f c_{p-1} + i g into c at cOut0, tanh(c_p) into tanhC at
 * tc0, h_p = o tanh(c_p) into h at h0. c_{p-1} is read from c at cPrev0. All but act are [b, H].
 */
export function lstmGates(
  act: Float32Array | Float64Array, a0: number,
  c: Float32Array | Float64Array, cPrev0: number, cOut0: number,
  tanhC: Float32Array | Float64Array, tc0: number,
  h: Float32Array | Float64Array, h0: number,
  b: number, H: number,
): void {
  for (let r = 0; r < b; r++) {
    const a = a0 + r * 4 * H;
    const rh = r * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(act[a + j]!);
      const f = sigmoid(act[a + H + j]!);
      const g = Math.tanh(act[a + 2 * H + j]!);
      const o = sigmoid(act[a + 3 * H + j]!);
      act[a + j] = i;
      act[a + H + j] = f;
      act[a + 2 * H + j] = g;
      act[a + 3 * H + j] = o;
      const cn = f * c[cPrev0 + rh + j]! + i * g;
      const tc = Math.tanh(cn);
      c[cOut0 + rh + j] = cn;
      tanhC[tc0 + rh + j] = tc;
      h[h0 + rh + j] = o * tc;
    }
  }
}

/** y[y0 + i] = tanh(x[x0 + i]) for i < n: the vanilla RNN's h = tanh(a). */
export function tanhInto(x: Float32Array | Float64Array, x0: number, y: Float32Array | Float64Array, y0: number, n: number): void {
  for (let i = 0; i < n; i++) y[y0 + i] = Math.tanh(x[x0 + i]!);
}
