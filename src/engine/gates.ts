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

/**
 * nn.GRU's step for b rows, gates r, z, n (see gru.ts): act [b, 3H] at a0 holds W_ih x + b_ih and
 * receives r, z, n; hg [b, 3H] at g0 holds W_hh h + b_hh; hn [b, H] at hn0 keeps hg's n part for
 * backward; h_p = (1 - z) n + z h_{p-1} into h at hOut0, h_{p-1} read at hPrev0.
 */
export function gruGates(
  act: Float32Array | Float64Array, a0: number,
  hg: Float32Array | Float64Array, g0: number,
  hn: Float32Array | Float64Array, hn0: number,
  h: Float32Array | Float64Array, hPrev0: number, hOut0: number,
  b: number, H: number,
): void {
  for (let r = 0; r < b; r++) {
    const a = a0 + r * 3 * H;
    const ha = g0 + r * 3 * H;
    const rh = r * H;
    for (let j = 0; j < H; j++) {
      const rg = sigmoid(act[a + j]! + hg[ha + j]!);
      const z = sigmoid(act[a + H + j]! + hg[ha + H + j]!);
      const hnv = hg[ha + 2 * H + j]!;
      const nv = Math.tanh(act[a + 2 * H + j]! + rg * hnv);
      act[a + j] = rg;
      act[a + H + j] = z;
      act[a + 2 * H + j] = nv;
      hn[hn0 + rh + j] = hnv;
      h[hOut0 + rh + j] = (1 - z) * nv + z * h[hPrev0 + rh + j]!;
    }
  }
}
