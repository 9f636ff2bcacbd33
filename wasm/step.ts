// One batch-1 step of a whole stacked model in a single call, for sampling: the input (a column of
// W_ih for a one-hot layer 0, a row of the embedding otherwise), every layer's products, gates and
// state update in place, and the decoder's logits. At batch 1 the products are matrix-vector products
// that read each weight once per step, so they get their own kernel (matvecAdd, below) rather than the
// tiled matmulABt, and the step pays one call from JavaScript instead of a dozen.
//
// The model is described by a table of i32 words in the memory (its layout: stepTable.ts;
// src/engine/fastStepper.ts writes it), so the kernel holds no state and any number of steppers, and
// instances on one shared memory, run side by side.
import { madd } from './fma';
import { gruGates, lstmGates, tanhInPlace } from './gates';
import * as T from './stepTable';

/** Lane r of the result is the sum of the four lanes of s_r. */
@inline function sums4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 1, 4, 5), v128.shuffle<f32>(s0, s1, 2, 3, 6, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 1, 4, 5), v128.shuffle<f32>(s2, s3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 2, 4, 6), v128.shuffle<f32>(u0, u1, 1, 3, 5, 7));
}

@inline function vec4(a: f32, b: f32, c: f32, d: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(a), 1, b), 2, c), 3, d);
}

/** s + w[0:16] · x[0:16] as four lanes, the four products summed pairwise before s. */
@inline function dot16(s: v128, w: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const a = f32x4.add(f32x4.mul(v128.load(w), x0), f32x4.mul(v128.load(w, 16), x1));
  const b = f32x4.add(f32x4.mul(v128.load(w, 32), x2), f32x4.mul(v128.load(w, 48), x3));
  return f32x4.add(s, f32x4.add(a, b));
}

/**
 * The dot products with x [K] of the four rows at r0, r0 + row, r0 + 2 row, r0 + 3 row, as one
 * vector. Sixteen columns per pass. Without fused multiply-add the multiplications and additions take
 * the vector ports in turn, and the fewer loads and address additions around them, the closer the loop
 * comes to that bound (this form measured ~15% faster than 4 or 8 rows of one vector per pass). With
 * it, each row keeps two accumulators, so eight chains of two dependent FMAs per pass hide the FMA's
 * latency.
 */
@inline function dot4(r0: usize, row: usize, x: usize, K: i32): v128 {
  const r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let k = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
    for (; k + 16 <= K; k += 16) {
      const o = <usize>k << 2;
      const xp = x + o;
      const xa = v128.load(xp), xb = v128.load(xp, 16), xc = v128.load(xp, 32), xd = v128.load(xp, 48);
      let w = r0 + o;
      s0 = madd(v128.load(w), xa, s0); t0 = madd(v128.load(w, 16), xb, t0);
      s0 = madd(v128.load(w, 32), xc, s0); t0 = madd(v128.load(w, 48), xd, t0);
      w = r1 + o;
      s1 = madd(v128.load(w), xa, s1); t1 = madd(v128.load(w, 16), xb, t1);
      s1 = madd(v128.load(w, 32), xc, s1); t1 = madd(v128.load(w, 48), xd, t1);
      w = r2 + o;
      s2 = madd(v128.load(w), xa, s2); t2 = madd(v128.load(w, 16), xb, t2);
      s2 = madd(v128.load(w, 32), xc, s2); t2 = madd(v128.load(w, 48), xd, t2);
      w = r3 + o;
      s3 = madd(v128.load(w), xa, s3); t3 = madd(v128.load(w, 16), xb, t3);
      s3 = madd(v128.load(w, 32), xc, s3); t3 = madd(v128.load(w, 48), xd, t3);
    }
    s0 = f32x4.add(s0, t0);
    s1 = f32x4.add(s1, t1);
    s2 = f32x4.add(s2, t2);
    s3 = f32x4.add(s3, t3);
  } else {
    for (; k + 16 <= K; k += 16) {
      const o = <usize>k << 2;
      const xp = x + o;
      const xa = v128.load(xp), xb = v128.load(xp, 16), xc = v128.load(xp, 32), xd = v128.load(xp, 48);
      s0 = dot16(s0, r0 + o, xa, xb, xc, xd);
      s1 = dot16(s1, r1 + o, xa, xb, xc, xd);
      s2 = dot16(s2, r2 + o, xa, xb, xc, xd);
      s3 = dot16(s3, r3 + o, xa, xb, xc, xd);
    }
  }
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const xv = v128.load(x + o);
    s0 = madd(v128.load(r0 + o), xv, s0);
    s1 = madd(v128.load(r1 + o), xv, s1);
    s2 = madd(v128.load(r2 + o), xv, s2);
    s3 = madd(v128.load(r3 + o), xv, s3);
  }
  let s = sums4(s0, s1, s2, s3);
  if (k < K) {
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    for (; k < K; k++) {
      const o = <usize>k << 2;
      const xs = load<f32>(x + o);
      t0 += load<f32>(r0 + o) * xs; t1 += load<f32>(r1 + o) * xs; t2 += load<f32>(r2 + o) * xs; t3 += load<f32>(r3 + o) * xs;
    }
    s = f32x4.add(s, vec4(t0, t1, t2, t3));
  }
  return s;
}

/**
 * y[n] += W[n, :K] · x + col[n * colStride] for n < N (col 0: none): four rows at a time, then the
 * last N % 4 rows one by one. The column's loads (one cache line each, for a one-hot input's column
 * of W_ih) overlap with the products here, where a pass of their own cost 5% of an LSTM 128 step.
 */
function matvecAdd(y: usize, w: usize, x: usize, K: i32, N: i32, col: usize, colStride: usize): void {
  const row = <usize>K << 2;
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const q = y + (<usize>n << 2);
    let s = f32x4.add(v128.load(q), dot4(w + <usize>n * row, row, x, K));
    if (col != 0) {
      const c = col + <usize>n * colStride;
      s = f32x4.add(s, vec4(load<f32>(c), load<f32>(c + colStride), load<f32>(c + 2 * colStride), load<f32>(c + 3 * colStride)));
    }
    v128.store(q, s);
  }
  for (; n < N; n++) {
    const q = y + (<usize>n << 2);
    // the same row four times, so it is summed exactly as the rows above
    const s = load<f32>(q) + f32x4.extract_lane(dot4(w + <usize>n * row, 0, x, K), 0);
    store<f32>(q, col != 0 ? s + load<f32>(col + <usize>n * colStride) : s);
  }
}

/** y[n] = b1[n] + b2[n] for n < N, or b1[n] alone when b2 is 0. */
function biasInit(y: usize, b1: usize, b2: usize, N: i32): void {
  if (b2 == 0) {
    memory.copy(y, b1, <usize>N << 2);
    return;
  }
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const q = <usize>n << 2;
    v128.store(y + q, f32x4.add(v128.load(b1 + q), v128.load(b2 + q)));
  }
  for (; n < N; n++) store<f32>(y + (<usize>n << 2), load<f32>(b1 + (<usize>n << 2)) + load<f32>(b2 + (<usize>n << 2)));
}

/** One step of the model described at d (see the header) on input token `token`: state updated in place, logits written. */
export function stepModel(d: usize, token: i32): void {
  const cell = load<i32>(d, T.CELL << 2);
  const L = load<i32>(d, T.LAYERS << 2);
  const H = load<i32>(d, T.HIDDEN << 2);
  const V = load<i32>(d, T.VOCABULARY << 2);
  const emb = <usize>load<u32>(d, T.EMBEDDING << 2);
  const E = load<i32>(d, T.EMBEDDING_SIZE << 2);
  const act = <usize>load<u32>(d, T.GATE_SCRATCH << 2);
  const hg = <usize>load<u32>(d, T.HIDDEN_SIDE_SCRATCH << 2);
  const aux = <usize>load<u32>(d, T.SCRATCH << 2);
  const G = cell == T.CELL_LSTM ? 4 : cell == T.CELL_GRU ? 3 : 1;
  const GH = G * H;
  const rowH = <usize>H << 2;
  // Layer 0 reads a row of the embedding, or (one-hot, E = 0) a column of its own W_ih.
  let x: usize = emb != 0 ? emb + <usize>token * <usize>E * 4 : 0;
  let K = E;
  let h = <usize>load<u32>(d, T.STATE << 2);
  for (let l = 0; l < L; l++) {
    const p = d + (<usize>T.HEAD_WORDS << 2) + <usize>l * (<usize>T.LAYER_WORDS << 2);
    const wih = <usize>load<u32>(p, T.LAYER_WEIGHT_IH << 2);
    const whh = <usize>load<u32>(p, T.LAYER_WEIGHT_HH << 2);
    const bih = <usize>load<u32>(p, T.LAYER_BIAS_IH << 2);
    const bhh = <usize>load<u32>(p, T.LAYER_BIAS_HH << 2);
    const col: usize = K == 0 ? wih + (<usize>token << 2) : 0;
    const colStride = <usize>V << 2;
    if (cell == T.CELL_GRU) {
      // The hidden side stays apart: its n rows are multiplied by r (see gru.ts).
      biasInit(act, bih, 0, GH);
      matvecAdd(act, wih, x, K, GH, col, colStride);
      biasInit(hg, bhh, 0, GH);
      matvecAdd(hg, whh, h, H, GH, 0, 0);
      gruGates(act, hg, aux, h, h, 1, H);
    } else {
      biasInit(act, bih, bhh, GH);
      if (K != 0) matvecAdd(act, wih, x, K, GH, 0, 0);
      matvecAdd(act, whh, h, H, GH, col, colStride);
      if (cell == T.CELL_LSTM) lstmGates(act, h + rowH, h + rowH, aux, h, 1, H);
      else tanhInPlace(act, h, H);
    }
    x = h;
    K = H;
    h += cell == T.CELL_LSTM ? 2 * rowH : rowH;
  }
  const logits = <usize>load<u32>(d, T.LOGITS << 2);
  biasInit(logits, <usize>load<u32>(d, T.DECODER_BIAS << 2), 0, V);
  matvecAdd(logits, <usize>load<u32>(d, T.DECODER_WEIGHT << 2), x, H, V, 0, 0);
}
