// The per-update work over every parameter, in WebAssembly SIMD: the optimizers' element-wise updates
// (twins of src/engine/optimizer.ts, same equations, float32 lanes where the reference computes in
// double and rounds on store), and the reductions around them: the squared gradient norm for clipping
// (summed in double, as the reference does), scaling by the clip factor, and adding another thread's
// gradients. For a small model like W1 (28k parameters, 25 tokens per update) these loops in plain
// JavaScript took 40% of a step. Arguments are byte addresses in the engine's memory; n floats each.

/**
 * torch.optim.Adam/AdamW on one tensor: p, g, m, v; l2 (Adam) or shrink (AdamW) as optimizer.ts derives them.
 * The complements c1 = 1 - b1 and c2 = 1 - b2 come from the caller, computed in double and rounded once, as
 * PyTorch rounds its scalars: 1 - b2 in float32 from b2 = 0.999 is 1.3e-5 off, a bias in every v.
 */
export function adamStep(p: usize, g: usize, m: usize, v: usize, n: i32, b1: f32, c1: f32, b2: f32, c2: f32, stepSize: f32, sqrtBias2: f32, eps: f32, l2: f32, shrink: f32): void {
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2);
  const vstep = f32x4.splat(stepSize), vbias = f32x4.splat(sqrtBias2), veps = f32x4.splat(eps);
  const vl2 = f32x4.splat(l2), vshrink = f32x4.splat(shrink);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    const pi = f32x4.mul(v128.load(p + q), vshrink);
    const gi = f32x4.add(v128.load(g + q), f32x4.mul(vl2, pi));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + q)), f32x4.mul(vc1, gi));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + q)), f32x4.mul(vc2, f32x4.mul(gi, gi)));
    v128.store(m + q, mi);
    v128.store(v + q, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vbias), veps);
    v128.store(p + q, f32x4.sub(pi, f32x4.div(f32x4.mul(vstep, mi), denom)));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const pi = load<f32>(p + q) * shrink;
    const gi = load<f32>(g + q) + l2 * pi;
    const mi = b1 * load<f32>(m + q) + c1 * gi;
    const vi = b2 * load<f32>(v + q) + c2 * gi * gi;
    store<f32>(m + q, mi);
    store<f32>(v + q, vi);
    store<f32>(p + q, pi - (stepSize * mi) / (Mathf.sqrt(vi) / sqrtBias2 + eps));
  }
}

/** torch.optim.Adagrad: s += g^2, p -= lr g / (sqrt(s) + eps), with L2 weight decay wd. */
export function adagradStep(p: usize, g: usize, s: usize, n: i32, lr: f32, eps: f32, wd: f32): void {
  const vlr = f32x4.splat(lr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    const pi = v128.load(p + q);
    const gi = f32x4.add(v128.load(g + q), f32x4.mul(vwd, pi));
    const si = f32x4.add(v128.load(s + q), f32x4.mul(gi, gi));
    v128.store(s + q, si);
    v128.store(p + q, f32x4.sub(pi, f32x4.div(f32x4.mul(vlr, gi), f32x4.add(f32x4.sqrt(si), veps))));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const pi = load<f32>(p + q);
    const gi = load<f32>(g + q) + wd * pi;
    const si = load<f32>(s + q) + gi * gi;
    store<f32>(s + q, si);
    store<f32>(p + q, pi - (lr * gi) / (Mathf.sqrt(si) + eps));
  }
}

/** torch.optim.RMSprop (no momentum, not centred): v = a v + c g^2 with c = 1 - a from the caller (see adamStep), p -= lr g / (sqrt(v) + eps). */
export function rmspropStep(p: usize, g: usize, v: usize, n: i32, lr: f32, alpha: f32, c: f32, eps: f32, wd: f32): void {
  const vlr = f32x4.splat(lr), va = f32x4.splat(alpha), vc = f32x4.splat(c), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    const pi = v128.load(p + q);
    const gi = f32x4.add(v128.load(g + q), f32x4.mul(vwd, pi));
    const vi = f32x4.add(f32x4.mul(va, v128.load(v + q)), f32x4.mul(vc, f32x4.mul(gi, gi)));
    v128.store(v + q, vi);
    v128.store(p + q, f32x4.sub(pi, f32x4.div(f32x4.mul(vlr, gi), f32x4.add(f32x4.sqrt(vi), veps))));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const pi = load<f32>(p + q);
    const gi = load<f32>(g + q) + wd * pi;
    const vi = alpha * load<f32>(v + q) + c * gi * gi;
    store<f32>(v + q, vi);
    store<f32>(p + q, pi - (lr * gi) / (Mathf.sqrt(vi) + eps));
  }
}

/** torch.optim.SGD: with a momentum buffer b (address 0 when mu = 0) b = mu b + g; p -= lr b. */
export function sgdStep(p: usize, g: usize, b: usize, n: i32, lr: f32, mu: f32, wd: f32): void {
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(mu), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    const pi = v128.load(p + q);
    let step = f32x4.add(v128.load(g + q), f32x4.mul(vwd, pi));
    if (b != 0) {
      step = f32x4.add(f32x4.mul(vmu, v128.load(b + q)), step);
      v128.store(b + q, step);
    }
    v128.store(p + q, f32x4.sub(pi, f32x4.mul(vlr, step)));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const pi = load<f32>(p + q);
    let step = load<f32>(g + q) + wd * pi;
    if (b != 0) {
      step = mu * load<f32>(b + q) + step;
      store<f32>(b + q, step);
    }
    store<f32>(p + q, pi - lr * step);
  }
}

/** Sum of x^2 over n floats, accumulated in double (two f64x2 lanes per f32x4). */
export function sumSquares(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo, lo));
    s1 = f64x2.add(s1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    r += v * v;
  }
  return r;
}

/** x *= c over n floats. */
export function scaleInPlace(x: usize, n: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = x + (<usize>i << 2);
    v128.store(q, f32x4.mul(v128.load(q), vc));
  }
  for (; i < n; i++) {
    const q = x + (<usize>i << 2);
    store<f32>(q, load<f32>(q) * c);
  }
}

/** dst += src over n floats. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    v128.store(dst + q, f32x4.add(v128.load(dst + q), v128.load(src + q)));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    store<f32>(dst + q, load<f32>(dst + q) + load<f32>(src + q));
  }
}
