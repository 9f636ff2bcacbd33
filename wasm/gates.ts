// Fused gate nonlinearities in WebAssembly SIMD: one pass over a step's pre-activations applies the
// cell's equations four lanes at a time, with a vectorised exp (Cephes expf: n = round(x log2 e),
// r = x - n ln 2 in two parts, degree-6 polynomial, 2^n put into the exponent bits; ~1 ulp) and tanh
// (Cephes tanhf's odd polynomial below |x| = 0.625, where 1 - 2/(e^{2x} + 1) would cancel; ~2 ulp).
//
// The relaxed SIMD build (wasm/fma.ts) evaluates the same exp with fused multiply-adds and the same
// tanh. It once took tanh as one rational function instead (Eigen's, within 4.5 ulp and cheaper than
// the two branches), but its errors lean one way over ranges of x, and an LSTM's cell state, a sum of
// i*g over every step of a carried state, gathered them: 30 updates of a hidden-100 model with carried
// state ended 15 times as far from PyTorch's float64 run as the plain build (test/unit/trajectories).
// The plain build keeps the arithmetic it had, so it computes what it did, bit for bit.
import { madd } from './fma';

// pmin/pmax and the 1.5 * 2^23 rounding trick (n is integral and within +-2^22) cost one x86
// instruction each where V8 emits sequences for wasm's min/max and saturating conversion: the gates
// ran 30% faster, with the same bits as before for every input but NaN (checked over all 2^32
// patterns; NaN still gives NaN).
@inline export function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r: v128, p: v128;
  if (ASC_FEATURE_RELAXED_SIMD) {
    r = f32x4.relaxed_nmadd(n, f32x4.splat(0.693359375), x);
    r = f32x4.relaxed_nmadd(n, f32x4.splat(-2.12194440e-4), r);
    p = f32x4.splat(1.9875691500e-4);
    p = madd(p, r, f32x4.splat(1.3981999507e-3));
    p = madd(p, r, f32x4.splat(8.3334519073e-3));
    p = madd(p, r, f32x4.splat(4.1665795894e-2));
    p = madd(p, r, f32x4.splat(1.6666665459e-1));
    p = madd(p, r, f32x4.splat(5.0000001201e-1));
    p = f32x4.add(madd(f32x4.mul(p, r), r, r), f32x4.splat(1));
  } else {
    r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
    r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
    p = f32x4.splat(1.9875691500e-4);
    p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
    p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
    p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
    p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
    p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
    p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  }
  const scale = i32x4.shl(i32x4.sub(f32x4.add(n, f32x4.splat(12582912.0)), i32x4.splat(0x4b400000 - 127)), 23);
  return f32x4.mul(p, scale);
}

@inline export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  // |x| >= 0.625: 1 - 2 / (e^{2|x|} + 1), sign restored
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(vexp(f32x4.add(ax, ax)), f32x4.splat(1))));
  const bigSigned = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // |x| < 0.625: x + x^3 P(x^2)
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(small, bigSigned, f32x4.lt(ax, f32x4.splat(0.625)));
}

@inline export function sigmoid1(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0);
}

@inline export function tanh1(x: f32): f32 {
  return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0);
}

/**
 * LSTM step for b rows (nn.LSTM, gates i, f, g, o): act [b, 4H] holds the pre-activations and gets
 * the activated gates; c_p = f c_{p-1} + i g; tanhC = tanh(c_p); h_p = o tanh(c_p). cPrev, cOut,
 * tanhC and hOut are [b, H].
 */
export function lstmGates(act: usize, cPrev: usize, cOut: usize, tanhC: usize, hOut: usize, b: i32, H: i32): void {
  const rowA = <usize>H << 4;
  const rowH = <usize>H << 2;
  const gH = <usize>H << 2;
  for (let r = 0; r < b; r++) {
    const a = act + <usize>r * rowA;
    const o = <usize>r * rowH;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const q = <usize>j << 2;
      const i = vsigmoid(v128.load(a + q));
      const f = vsigmoid(v128.load(a + gH + q));
      const g = vtanh(v128.load(a + 2 * gH + q));
      const og = vsigmoid(v128.load(a + 3 * gH + q));
      v128.store(a + q, i);
      v128.store(a + gH + q, f);
      v128.store(a + 2 * gH + q, g);
      v128.store(a + 3 * gH + q, og);
      const cn = f32x4.add(f32x4.mul(f, v128.load(cPrev + o + q)), f32x4.mul(i, g));
      const tc = vtanh(cn);
      v128.store(cOut + o + q, cn);
      v128.store(tanhC + o + q, tc);
      v128.store(hOut + o + q, f32x4.mul(og, tc));
    }
    for (; j < H; j++) {
      const q = <usize>j << 2;
      const i = sigmoid1(load<f32>(a + q));
      const f = sigmoid1(load<f32>(a + gH + q));
      const g = tanh1(load<f32>(a + 2 * gH + q));
      const og = sigmoid1(load<f32>(a + 3 * gH + q));
      store<f32>(a + q, i);
      store<f32>(a + gH + q, f);
      store<f32>(a + 2 * gH + q, g);
      store<f32>(a + 3 * gH + q, og);
      const cn = f * load<f32>(cPrev + o + q) + i * g;
      const tc = tanh1(cn);
      store<f32>(cOut + o + q, cn);
      store<f32>(tanhC + o + q, tc);
      store<f32>(hOut + o + q, og * tc);
    }
  }
}

/** Elementwise tanh of n floats from x to y (may be the same): the vanilla RNN's h = tanh(a). */
export function tanhInPlace(x: usize, y: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(y + (<usize>j << 2), vtanh(v128.load(x + (<usize>j << 2))));
  for (; j < n; j++) store<f32>(y + (<usize>j << 2), tanh1(load<f32>(x + (<usize>j << 2))));
}

/**
 * GRU step for b rows (nn.GRU, gates r, z, n): act [b, 3H] holds W_ih x + b_ih and receives r, z, n;
 * hg [b, 3H] holds W_hh h + b_hh; r = s(a_r + hg_r), z = s(a_z + hg_z), n = tanh(a_n + r hg_n);
 * hn [b, H] keeps hg_n for backward; h_p = (1 - z) n + z h_{p-1}. hPrev, hOut are [b, H].
 */
export function gruGates(act: usize, hg: usize, hn: usize, hPrev: usize, hOut: usize, b: i32, H: i32): void {
  const rowG = <usize>H * 12;
  const rowH = <usize>H << 2;
  const gH = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let r = 0; r < b; r++) {
    const a = act + <usize>r * rowG;
    const g = hg + <usize>r * rowG;
    const o = <usize>r * rowH;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const q = <usize>j << 2;
      const rg = vsigmoid(f32x4.add(v128.load(a + q), v128.load(g + q)));
      const z = vsigmoid(f32x4.add(v128.load(a + gH + q), v128.load(g + gH + q)));
      const hnv = v128.load(g + 2 * gH + q);
      const nv = vtanh(f32x4.add(v128.load(a + 2 * gH + q), f32x4.mul(rg, hnv)));
      v128.store(a + q, rg);
      v128.store(a + gH + q, z);
      v128.store(a + 2 * gH + q, nv);
      v128.store(hn + o + q, hnv);
      v128.store(hOut + o + q, f32x4.add(f32x4.mul(f32x4.sub(one, z), nv), f32x4.mul(z, v128.load(hPrev + o + q))));
    }
    for (; j < H; j++) {
      const q = <usize>j << 2;
      const rg = sigmoid1(load<f32>(a + q) + load<f32>(g + q));
      const z = sigmoid1(load<f32>(a + gH + q) + load<f32>(g + gH + q));
      const hnv = load<f32>(g + 2 * gH + q);
      const nv = tanh1(load<f32>(a + 2 * gH + q) + rg * hnv);
      store<f32>(a + q, rg);
      store<f32>(a + gH + q, z);
      store<f32>(a + 2 * gH + q, nv);
      store<f32>(hn + o + q, hnv);
      store<f32>(hOut + o + q, (1 - z) * nv + z * load<f32>(hPrev + o + q));
    }
  }
}
