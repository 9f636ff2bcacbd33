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
  act: Float32Array | Float64Array,
  a0: number,
  c: Float32Array | Float64Array,
  cPrev0: number,
  cOut0: number,
  tanhC: Float32Array | Float64Array,
  tc0: number,
  h: Float32Array | Float64Array,
  h0: number,
  b: number,
  H: number,
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
  act: Float32Array | Float64Array,
  a0: number,
  hg: Float32Array | Float64Array,
  g0: number,
  hn: Float32Array | Float64Array,
  hn0: number,
  h: Float32Array | Float64Array,
  hPrev0: number,
  hOut0: number,
  b: number,
  H: number,
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

type F = Float32Array | Float64Array;

/**
 * LSTM backward for one step of b rows (equations in lstm.ts): act [b, 4H] at a0 holds i, f, g, o;
 * tanhC at tc0, dh at dh0, c_{p-1} at cp0, all [b, H]; dc [b, H] from 0 carries dL/dc_p in and
 * dL/dc_{p-1} out; dIn [b, 4H] at d0 receives dL/d(pre-activations).
 */
export function lstmBackward(
  act: F,
  a0: number,
  tanhC: F,
  tc0: number,
  dh: F,
  dh0: number,
  c: F,
  cp0: number,
  dc: F,
  dIn: F,
  d0: number,
  b: number,
  H: number,
): void {
  const G = 4 * H;
  for (let r = 0; r < b; r++) {
    const a = a0 + r * G;
    const d = d0 + r * G;
    const rh = r * H;
    for (let j = 0; j < H; j++) {
      const i = act[a + j]!;
      const f = act[a + H + j]!;
      const g = act[a + 2 * H + j]!;
      const o = act[a + 3 * H + j]!;
      const tc = tanhC[tc0 + rh + j]!;
      const dhv = dh[dh0 + rh + j]!;
      // h = o tanh(c): dL/dc gets dh o (1 - tanh^2 c) on top of what came from c_{p+1}
      const dcv = dc[rh + j]! + dhv * o * (1 - tc * tc);
      // c = f c_{p-1} + i g; then through each gate's nonlinearity
      dIn[d + j] = dcv * g * i * (1 - i);
      dIn[d + H + j] = dcv * c[cp0 + rh + j]! * f * (1 - f);
      dIn[d + 2 * H + j] = dcv * i * (1 - g * g);
      dIn[d + 3 * H + j] = dhv * tc * o * (1 - o);
      dc[rh + j] = dcv * f;
    }
  }
}

/**
 * GRU backward for one step of b rows (equations in gru.ts): act [b, 3H] at a0 holds r, z, n; dh at
 * dh0, h_{p-1} in h at hp0, hn at hn0 are [b, H]; dIn and dHid [b, 3H] at a0 receive the input-side
 * and hidden-side gradients; dL/dh_{p-1} of the direct path z h_{p-1} is added (or, with
 * accumulate false, written) into dPrev at dp0.
 */
export function gruBackward(
  act: F,
  a0: number,
  dh: F,
  dh0: number,
  h: F,
  hp0: number,
  hn: F,
  hn0: number,
  dIn: F,
  dHid: F,
  dPrev: F,
  dp0: number,
  accumulate: boolean,
  b: number,
  H: number,
): void {
  const G = 3 * H;
  for (let r = 0; r < b; r++) {
    const a = a0 + r * G;
    const rh = r * H;
    for (let j = 0; j < H; j++) {
      const rg = act[a + j]!;
      const z = act[a + H + j]!;
      const nv = act[a + 2 * H + j]!;
      const dhv = dh[dh0 + rh + j]!;
      const hp = h[hp0 + rh + j]!;
      // h = (1 - z) n + z h_{p-1}
      const dn = dhv * (1 - z);
      const dz = dhv * (hp - nv);
      // n = tanh(a_n + r * hn)
      const dan = dn * (1 - nv * nv);
      const dar = dan * hn[hn0 + rh + j]! * rg * (1 - rg);
      const daz = dz * z * (1 - z);
      dIn[a + j] = dar;
      dIn[a + H + j] = daz;
      dIn[a + 2 * H + j] = dan;
      dHid[a + j] = dar;
      dHid[a + H + j] = daz;
      dHid[a + 2 * H + j] = dan * rg;
      // the direct path z * h_{p-1}
      if (accumulate) dPrev[dp0 + rh + j] += dhv * z;
      else dPrev[dp0 + rh + j] = dhv * z;
    }
  }
}

/** The vanilla RNN's h = tanh(a) backward: da = dh (1 - h^2) over n floats. */
export function tanhBackward(h: F, h0: number, dh: F, dh0: number, da: F, da0: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const hv = h[h0 + i]!;
    da[da0 + i] = dh[dh0 + i]! * (1 - hv * hv);
  }
}
