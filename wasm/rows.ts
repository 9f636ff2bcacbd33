// The per-step work around the products, in WebAssembly SIMD: bias-gradient column sums, softmax
// cross-entropy (forward and backward in one pass), the one-hot input as a column gather and its
// gradient as a column scatter, and drawing a token from softmax(z / T). Twins of kernels.ts,
// crossEntropy.ts and sampling.ts; arguments are byte addresses in the engine's memory.
import { vexp } from './gates';

const F: usize = 4;

/** db[N] += sum over m < M of dC[m, N]. */
export function addColumnSums(db: usize, dc: usize, M: i32, N: i32): void {
  const row = <usize>N * F;
  // 32 columns at a time in eight registers across all rows, so db is read and written once per block.
  let n = 0;
  for (; n + 32 <= N; n += 32) {
    const d = db + (<usize>n << 2);
    let s0 = v128.load(d), s1 = v128.load(d + 16), s2 = v128.load(d + 32), s3 = v128.load(d + 48);
    let s4 = v128.load(d + 64), s5 = v128.load(d + 80), s6 = v128.load(d + 96), s7 = v128.load(d + 112);
    let p = dc + (<usize>n << 2);
    for (let m = 0; m < M; m++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p + 16));
      s2 = f32x4.add(s2, v128.load(p + 32)); s3 = f32x4.add(s3, v128.load(p + 48));
      s4 = f32x4.add(s4, v128.load(p + 64)); s5 = f32x4.add(s5, v128.load(p + 80));
      s6 = f32x4.add(s6, v128.load(p + 96)); s7 = f32x4.add(s7, v128.load(p + 112));
      p += row;
    }
    v128.store(d, s0); v128.store(d + 16, s1); v128.store(d + 32, s2); v128.store(d + 48, s3);
    v128.store(d + 64, s4); v128.store(d + 80, s5); v128.store(d + 96, s6); v128.store(d + 112, s7);
  }
  for (; n + 4 <= N; n += 4) {
    const d = db + (<usize>n << 2);
    let s = v128.load(d);
    let p = dc + (<usize>n << 2);
    for (let m = 0; m < M; m++) { s = f32x4.add(s, v128.load(p)); p += row; }
    v128.store(d, s);
  }
  for (; n < N; n++) {
    const d = db + (<usize>n << 2);
    let s = load<f32>(d);
    let p = dc + (<usize>n << 2);
    for (let m = 0; m < M; m++) { s += load<f32>(p); p += row; }
    store<f32>(d, s);
  }
}

@inline function rowMax(z: usize, V: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let v = 0;
  for (; v + 4 <= V; v += 4) mv = f32x4.max(mv, v128.load(z + (<usize>v << 2)));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; v < V; v++) m = max(m, load<f32>(z + (<usize>v << 2)));
  return m;
}

@inline function lanesSum(s: v128): f64 {
  return <f64>f32x4.extract_lane(s, 0) + <f64>f32x4.extract_lane(s, 1) + <f64>f32x4.extract_lane(s, 2) + <f64>f32x4.extract_lane(s, 3);
}

/**
 * Natural log of a positive double without lookup tables (AssemblyScript's Math.log brings a data
 * segment, which would land in memory the engine's heap hands out): x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^19/19), s = (m-1)/(m+1),
 * |s| <= 0.172, so the first omitted term is below 3e-16 of the sum. NaN and infinity pass through.
 */
function ln(x: f64): f64 {
  if (!isFinite(x) || x <= 0) return x <= 0 ? NaN : x;
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (e == -1023) {
    // subnormal: normalise through a multiplication by 2^64
    const y = x * 18446744073709551616.0;
    const b2 = reinterpret<u64>(y);
    e = <i32>((b2 >> 52) & 0x7ff) - 1023 - 64;
    m = reinterpret<f64>((b2 & 0x000fffffffffffff) | 0x3ff0000000000000);
  }
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  let p: f64 = 1.0 / 19;
  p = p * z + 1.0 / 17; p = p * z + 1.0 / 15; p = p * z + 1.0 / 13; p = p * z + 1.0 / 11;
  p = p * z + 1.0 / 9; p = p * z + 1.0 / 7; p = p * z + 1.0 / 5; p = p * z + 1.0 / 3;
  return <f64>e * 0.6931471805599453 + 2 * s * (1 + z * p);
}

@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/**
 * Softmax cross-entropy of `rows` rows of z [rows, V] against targets (i32): returns the summed loss
 * l = logsumexp(z) - z_y in nats. Leaves softmax(z) in z, or with grad = 1 the gradient
 * scale * (softmax(z) - onehot(y)) straight away. perRow (0 = none) gets each row's loss as f32.
 * A negative target is padding (PyTorch's ignore_index): loss 0, and with grad = 1 a zero gradient row.
 */
export function softmaxCrossEntropy(z: usize, targets: usize, rows: i32, V: i32, perRow: usize, grad: i32, scale: f32): f64 {
  let total: f64 = 0;
  const row = <usize>V * F;
  for (let r = 0; r < rows; r++) {
    const o = z + <usize>r * row;
    const y = load<i32>(targets + (<usize>r << 2));
    if (y < 0) {
      if (perRow != 0) store<f32>(perRow + (<usize>r << 2), 0);
      if (grad != 0) memory.fill(o, 0, row);
      continue;
    }
    const zy = load<f32>(o + (<usize>y << 2));
    // A NaN logit makes the max NaN (f32x4.max propagates it), and with it the loss.
    const m = rowMax(o, V);
    const mv = f32x4.splat(m);
    let sv = f32x4.splat(0);
    let v = 0;
    for (; v + 4 <= V; v += 4) {
      const e = vexp(f32x4.sub(v128.load(o + (<usize>v << 2)), mv));
      v128.store(o + (<usize>v << 2), e);
      sv = f32x4.add(sv, e);
    }
    let sum = lanesSum(sv);
    for (; v < V; v++) {
      const e = exp1(load<f32>(o + (<usize>v << 2)) - m);
      store<f32>(o + (<usize>v << 2), e);
      sum += e;
    }
    const loss = <f64>m + ln(sum) - <f64>zy;
    if (perRow != 0) store<f32>(perRow + (<usize>r << 2), <f32>loss);
    total += loss;
    // p = e (1/sum), then scale p: the same roundings as softmax here and crossEntropyGradient after,
    // so the fused pass gives the same gradient to the bit.
    const k = <f32>(1 / sum);
    const kv = f32x4.splat(k);
    v = 0;
    if (grad != 0) {
      const sv2 = f32x4.splat(scale);
      for (; v + 4 <= V; v += 4) v128.store(o + (<usize>v << 2), f32x4.mul(f32x4.mul(v128.load(o + (<usize>v << 2)), kv), sv2));
      for (; v < V; v++) store<f32>(o + (<usize>v << 2), (load<f32>(o + (<usize>v << 2)) * k) * scale);
      store<f32>(o + (<usize>y << 2), load<f32>(o + (<usize>y << 2)) - scale);
    } else {
      for (; v + 4 <= V; v += 4) v128.store(o + (<usize>v << 2), f32x4.mul(v128.load(o + (<usize>v << 2)), kv));
      for (; v < V; v++) store<f32>(o + (<usize>v << 2), load<f32>(o + (<usize>v << 2)) * k);
    }
  }
  return total;
}

/** p [rows, V] of probabilities becomes scale * (p - onehot(targets)); a row whose target is negative (padding) becomes zero. */
export function crossEntropyGradient(p: usize, targets: usize, rows: i32, V: i32, scale: f32): void {
  const row = <usize>V * F;
  const kv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const o = p + <usize>r * row;
    if (load<i32>(targets + (<usize>r << 2)) < 0) {
      memory.fill(o, 0, row);
      continue;
    }
    let v = 0;
    for (; v + 4 <= V; v += 4) v128.store(o + (<usize>v << 2), f32x4.mul(v128.load(o + (<usize>v << 2)), kv));
    for (; v < V; v++) store<f32>(o + (<usize>v << 2), load<f32>(o + (<usize>v << 2)) * scale);
    const y = o + (<usize>load<i32>(targets + (<usize>r << 2)) << 2);
    store<f32>(y, load<f32>(y) - scale);
  }
}

/** dst [K, N] = src [N, K]^T. */
function transpose(dst: usize, src: usize, N: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    const s = src + <usize>n * <usize>K * F;
    let d = dst + (<usize>n << 2);
    const rowD = <usize>N * F;
    for (let k = 0; k < K; k++) { store<f32>(d, load<f32>(s + (<usize>k << 2))); d += rowD; }
  }
}

/** c[r, :] += src[r, :] for n floats. */
@inline function addRow(c: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const q = <usize>j << 2;
    v128.store(c + q, f32x4.add(v128.load(c + q), v128.load(src + q)));
    v128.store(c + q + 16, f32x4.add(v128.load(c + q + 16), v128.load(src + q + 16)));
  }
  for (; j + 4 <= n; j += 4) {
    const q = <usize>j << 2;
    v128.store(c + q, f32x4.add(v128.load(c + q), v128.load(src + q)));
  }
  for (; j < n; j++) {
    const q = <usize>j << 2;
    store<f32>(c + q, load<f32>(c + q) + load<f32>(src + q));
  }
}

/**
 * C[m, :] += W[:, ids[m]] for m < M; W [N, K]. With many rows (M >= K) and a scratch of K*N floats,
 * W is transposed once so every row adds one contiguous run; otherwise each reads a strided column.
 */
export function gatherColumnsAdd(c: usize, ids: usize, w: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  const rowC = <usize>N * F;
  if (scratch != 0 && M >= K) {
    transpose(scratch, w, N, K);
    for (let m = 0; m < M; m++) addRow(c + <usize>m * rowC, scratch + <usize>load<i32>(ids + (<usize>m << 2)) * rowC, N);
    return;
  }
  const rowW = <usize>K * F;
  for (let m = 0; m < M; m++) {
    const cm = c + <usize>m * rowC;
    let p = w + (<usize>load<i32>(ids + (<usize>m << 2)) << 2);
    for (let n = 0; n < N; n++) {
      const q = cm + (<usize>n << 2);
      store<f32>(q, load<f32>(q) + load<f32>(p));
      p += rowW;
    }
  }
}

/**
 * dW[:, ids[m]] += dC[m, :] for m < M; dW [N, K]. With M >= K and a scratch of K*N floats, rows are
 * summed per token into the transposed scratch first and added into dW once.
 */
export function scatterColumnsAdd(dw: usize, ids: usize, dc: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  const rowC = <usize>N * F;
  const rowW = <usize>K * F;
  if (scratch != 0 && M >= K) {
    memory.fill(scratch, 0, <usize>K * rowC);
    for (let m = 0; m < M; m++) addRow(scratch + <usize>load<i32>(ids + (<usize>m << 2)) * rowC, dc + <usize>m * rowC, N);
    for (let n = 0; n < N; n++) {
      const d = dw + <usize>n * rowW;
      let s = scratch + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const q = d + (<usize>k << 2);
        store<f32>(q, load<f32>(q) + load<f32>(s));
        s += rowC;
      }
    }
    return;
  }
  for (let m = 0; m < M; m++) {
    const cm = dc + <usize>m * rowC;
    let p = dw + (<usize>load<i32>(ids + (<usize>m << 2)) << 2);
    for (let n = 0; n < N; n++) {
      store<f32>(p, load<f32>(p) + load<f32>(cm + (<usize>n << 2)));
      p += rowW;
    }
  }
}

/**
 * Draws a token from softmax(z / T) over z [V], with invT = 1/T and u uniform in [0, 1): the first
 * i where u * total - sum_{j <= i} e_j < 0, e_j = exp((z_j - max) / T), as sampling.ts does. Returns
 * -1 when the max is not finite (the caller then takes the argmax).
 */
export function sampleSoftmax(z: usize, V: i32, invT: f32, u: f64): i32 {
  const m = rowMax(z, V);
  if (!isFinite(m)) return -1;
  const mv = f32x4.splat(m);
  const tv = f32x4.splat(invT);
  let sv = f32x4.splat(0);
  let v = 0;
  for (; v + 4 <= V; v += 4) sv = f32x4.add(sv, vexp(f32x4.mul(f32x4.sub(v128.load(z + (<usize>v << 2)), mv), tv)));
  let total = lanesSum(sv);
  for (; v < V; v++) total += exp1((load<f32>(z + (<usize>v << 2)) - m) * invT);
  let left = u * total;
  v = 0;
  for (; v + 4 <= V; v += 4) {
    const e = vexp(f32x4.mul(f32x4.sub(v128.load(z + (<usize>v << 2)), mv), tv));
    left -= <f64>f32x4.extract_lane(e, 0); if (left < 0) return v;
    left -= <f64>f32x4.extract_lane(e, 1); if (left < 0) return v + 1;
    left -= <f64>f32x4.extract_lane(e, 2); if (left < 0) return v + 2;
    left -= <f64>f32x4.extract_lane(e, 3); if (left < 0) return v + 3;
  }
  for (; v < V; v++) {
    left -= <f64>exp1((load<f32>(z + (<usize>v << 2)) - m) * invT);
    if (left < 0) return v;
  }
  return V - 1;
}
