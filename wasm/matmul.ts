// WebAssembly SIMD matrix products (AssemblyScript), the fast twins of src/engine/kernels.ts: same
// three products, same [out, in] weight layout, arguments are byte addresses in the one memory the
// engine's arena lives in. Sums are kept in float32 lanes (f32x4), so results equal the reference
// (which sums in double) within float32 rounding of a K-term sum. Every multiply-add is madd
// (wasm/fma.ts): one fused instruction in the relaxed SIMD build, a multiplication and an addition in
// the other.
//
// Two register-blocked cores:
//  - dot form, for C = A B^T (rows of both run along the reduction): a 2x4 block of C as eight f32x4
//    partial sums along k, reduced across lanes once at the end;
//  - broadcast form, for C = A B and C = A^T B (B's rows run along C's columns): a 4x8 block of C as
//    eight f32x4 accumulators, each step one splat of an A element times two vectors of B.
// Eight accumulators plus the operands fit the 16 vector registers of x86-64 without spilling.
// Loops are tiled so the operand panels that are re-read stay in L1/L2.

import { madd } from './fma';

const F: usize = 4; // bytes per float

// Dot form tile: rows of A re-read for every 4-row panel of B.
const DOT_ROWS_TILE: i32 = 64;
// Broadcast form tiles: reduction steps per pass, and C rows per pass.
const P_TILE: i32 = 128;
const I_TILE: i32 = 128;
// Scratch that matmulAtB packs a tile of A into: P_TILE * I_TILE floats (src/engine/wasmHeap.ts reserves it).

@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

@inline function put(p: usize, v: f32, accumulate: bool): void {
  store<f32>(p, accumulate ? load<f32>(p) + v : v);
}

/** Sum over k < K of a[k] * b[k], both contiguous. */
@inline function dot1(a: usize, b: usize, K: i32): f32 {
  let s = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) s = madd(v128.load(a + (<usize>k << 2)), v128.load(b + (<usize>k << 2)), s);
  let r = hsum(s);
  for (; k < K; k++) r += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  return r;
}

/** C[M,N] (+)= A[M,K] · B[N,K]^T. */
export function matmulABt(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, accumulate: bool): void {
  const rowA = <usize>K * F;
  const rowC = <usize>N * F;
  for (let i0 = 0; i0 < M; i0 += DOT_ROWS_TILE) {
    const i1 = min(M, i0 + DOT_ROWS_TILE);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = b + <usize>j * rowA;
      const b1 = b0 + rowA;
      const b2 = b1 + rowA;
      const b3 = b2 + rowA;
      let i = i0;
      for (; i + 2 <= i1; i += 2) {
        const a0 = a + <usize>i * rowA;
        const a1 = a0 + rowA;
        let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
        let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
        let k = 0;
        for (; k + 4 <= K; k += 4) {
          const o = <usize>k << 2;
          const x0 = v128.load(a0 + o);
          const x1 = v128.load(a1 + o);
          let y = v128.load(b0 + o);
          s00 = madd(x0, y, s00);
          s10 = madd(x1, y, s10);
          y = v128.load(b1 + o);
          s01 = madd(x0, y, s01);
          s11 = madd(x1, y, s11);
          y = v128.load(b2 + o);
          s02 = madd(x0, y, s02);
          s12 = madd(x1, y, s12);
          y = v128.load(b3 + o);
          s03 = madd(x0, y, s03);
          s13 = madd(x1, y, s13);
        }
        let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
        let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
        for (; k < K; k++) {
          const o = <usize>k << 2;
          const x0 = load<f32>(a0 + o);
          const x1 = load<f32>(a1 + o);
          const y0 = load<f32>(b0 + o), y1 = load<f32>(b1 + o), y2 = load<f32>(b2 + o), y3 = load<f32>(b3 + o);
          r00 += x0 * y0; r01 += x0 * y1; r02 += x0 * y2; r03 += x0 * y3;
          r10 += x1 * y0; r11 += x1 * y1; r12 += x1 * y2; r13 += x1 * y3;
        }
        const c0 = c + <usize>i * rowC + (<usize>j << 2);
        const c1 = c0 + rowC;
        put(c0, r00, accumulate); put(c0 + 4, r01, accumulate); put(c0 + 8, r02, accumulate); put(c0 + 12, r03, accumulate);
        put(c1, r10, accumulate); put(c1 + 4, r11, accumulate); put(c1 + 8, r12, accumulate); put(c1 + 12, r13, accumulate);
      }
      for (; i < i1; i++) {
        // One row of A (a batch of one). With fused multiply-adds, two partial sums per row of B, so
        // eight independent chains hide the FMA's latency where four would wait on it; the plain build
        // keeps its order of summation, so what Node 20 computes stays as it was, bit for bit.
        const a0 = a + <usize>i * rowA;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
        let k = 0;
        if (ASC_FEATURE_RELAXED_SIMD) for (; k + 8 <= K; k += 8) {
          const o = <usize>k << 2;
          const x0 = v128.load(a0 + o);
          const x1 = v128.load(a0 + o + 16);
          s0 = madd(x0, v128.load(b0 + o), s0); t0 = madd(x1, v128.load(b0 + o + 16), t0);
          s1 = madd(x0, v128.load(b1 + o), s1); t1 = madd(x1, v128.load(b1 + o + 16), t1);
          s2 = madd(x0, v128.load(b2 + o), s2); t2 = madd(x1, v128.load(b2 + o + 16), t2);
          s3 = madd(x0, v128.load(b3 + o), s3); t3 = madd(x1, v128.load(b3 + o + 16), t3);
        }
        for (; k + 4 <= K; k += 4) {
          const o = <usize>k << 2;
          const x0 = v128.load(a0 + o);
          s0 = madd(x0, v128.load(b0 + o), s0);
          s1 = madd(x0, v128.load(b1 + o), s1);
          s2 = madd(x0, v128.load(b2 + o), s2);
          s3 = madd(x0, v128.load(b3 + o), s3);
        }
        let r0 = hsum(f32x4.add(s0, t0)), r1 = hsum(f32x4.add(s1, t1)), r2 = hsum(f32x4.add(s2, t2)), r3 = hsum(f32x4.add(s3, t3));
        for (; k < K; k++) {
          const o = <usize>k << 2;
          const x0 = load<f32>(a0 + o);
          r0 += x0 * load<f32>(b0 + o); r1 += x0 * load<f32>(b1 + o); r2 += x0 * load<f32>(b2 + o); r3 += x0 * load<f32>(b3 + o);
        }
        const c0 = c + <usize>i * rowC + (<usize>j << 2);
        put(c0, r0, accumulate); put(c0 + 4, r1, accumulate); put(c0 + 8, r2, accumulate); put(c0 + 12, r3, accumulate);
      }
    }
    for (; j < N; j++) {
      const bj = b + <usize>j * rowA;
      for (let i = i0; i < i1; i++) put(c + <usize>i * rowC + (<usize>j << 2), dot1(a + <usize>i * rowA, bj, K), accumulate);
    }
  }
}

/**
 * C[i, j] (+)= sum_p X[i*xi + p*xp] * Y[p*J + j] for i < I, j < J, p < P; C and Y rows are J long.
 * Strides xi, xp are in floats. With pack != 0 (P_TILE * I_TILE floats of scratch), each tile of X is
 * first copied as [i/4][p][4], so the four rows of a block are read from one contiguous run instead
 * of one cache line (and, for long rows, one page) per p: C = A^T B reads A down its columns.
 */
function broadcast(c: usize, x: usize, xi: i32, xp: i32, y: usize, I: i32, J: i32, P: i32, accumulate: bool, pack: usize): void {
  const rowY = <usize>J * F;
  const sxi = <usize>xi * F;
  const sxp = <usize>xp * F;
  for (let p0 = 0; p0 < P; p0 += P_TILE) {
    const np = min(P, p0 + P_TILE) - p0;
    const acc = accumulate || p0 > 0;
    const xt = x + <usize>p0 * sxp;
    const yt = y + <usize>p0 * rowY;
    for (let i0 = 0; i0 < I; i0 += I_TILE) {
      const i1 = min(I, i0 + I_TILE);
      const blocks = (i1 - i0) >> 2;
      if (pack != 0) {
        // [block][p][4] from X's rows i0 .. i0 + 4*blocks of this p-tile
        for (let q = 0; q < blocks; q++) {
          let src = xt + <usize>(i0 + 4 * q) * sxi;
          let dst = pack + <usize>q * <usize>np * 16;
          for (let p = 0; p < np; p++) {
            store<f32>(dst, load<f32>(src));
            store<f32>(dst + 4, load<f32>(src + sxi));
            store<f32>(dst + 8, load<f32>(src + 2 * sxi));
            store<f32>(dst + 12, load<f32>(src + 3 * sxi));
            src += sxp;
            dst += 16;
          }
        }
      }
      const bi: usize = pack != 0 ? 4 : sxi;
      const bp: usize = pack != 0 ? 16 : sxp;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const xa = pack != 0 ? pack + <usize>((i - i0) >> 2) * <usize>np * 16 : xt + <usize>i * sxi;
        const ca = c + <usize>i * rowY;
        let j = 0;
        for (; j + 8 <= J; j += 8) {
          const cj = ca + (<usize>j << 2);
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
          let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
          if (acc) {
            c00 = v128.load(cj); c01 = v128.load(cj + 16);
            c10 = v128.load(cj + rowY); c11 = v128.load(cj + rowY + 16);
            c20 = v128.load(cj + 2 * rowY); c21 = v128.load(cj + 2 * rowY + 16);
            c30 = v128.load(cj + 3 * rowY); c31 = v128.load(cj + 3 * rowY + 16);
          }
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            const y0 = v128.load(py);
            const y1 = v128.load(py + 16);
            let s = v128.load32_splat(px);
            c00 = madd(s, y0, c00); c01 = madd(s, y1, c01);
            s = v128.load32_splat(px + bi);
            c10 = madd(s, y0, c10); c11 = madd(s, y1, c11);
            s = v128.load32_splat(px + 2 * bi);
            c20 = madd(s, y0, c20); c21 = madd(s, y1, c21);
            s = v128.load32_splat(px + 3 * bi);
            c30 = madd(s, y0, c30); c31 = madd(s, y1, c31);
            px += bp;
            py += rowY;
          }
          v128.store(cj, c00); v128.store(cj + 16, c01);
          v128.store(cj + rowY, c10); v128.store(cj + rowY + 16, c11);
          v128.store(cj + 2 * rowY, c20); v128.store(cj + 2 * rowY + 16, c21);
          v128.store(cj + 3 * rowY, c30); v128.store(cj + 3 * rowY + 16, c31);
        }
        for (; j + 4 <= J; j += 4) {
          const cj = ca + (<usize>j << 2);
          let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
          if (acc) { c0 = v128.load(cj); c1 = v128.load(cj + rowY); c2 = v128.load(cj + 2 * rowY); c3 = v128.load(cj + 3 * rowY); }
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            const y0 = v128.load(py);
            c0 = madd(v128.load32_splat(px), y0, c0);
            c1 = madd(v128.load32_splat(px + bi), y0, c1);
            c2 = madd(v128.load32_splat(px + 2 * bi), y0, c2);
            c3 = madd(v128.load32_splat(px + 3 * bi), y0, c3);
            px += bp;
            py += rowY;
          }
          v128.store(cj, c0); v128.store(cj + rowY, c1); v128.store(cj + 2 * rowY, c2); v128.store(cj + 3 * rowY, c3);
        }
        for (; j < J; j++) {
          let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            const y0 = load<f32>(py);
            s0 += load<f32>(px) * y0; s1 += load<f32>(px + bi) * y0; s2 += load<f32>(px + 2 * bi) * y0; s3 += load<f32>(px + 3 * bi) * y0;
            px += bp;
            py += rowY;
          }
          const cj = ca + (<usize>j << 2);
          put(cj, s0, acc); put(cj + rowY, s1, acc); put(cj + 2 * rowY, s2, acc); put(cj + 3 * rowY, s3, acc);
        }
      }
      for (; i < i1; i++) {
        // One row of C (a batch of one). With fused multiply-adds, eight vectors of it at a time, so
        // eight independent chains run where one would wait on each FMA's latency; the plain build
        // keeps its order, as above.
        const xa = xt + <usize>i * sxi;
        const ca = c + <usize>i * rowY;
        let j = 0;
        if (ASC_FEATURE_RELAXED_SIMD) for (; j + 32 <= J; j += 32) {
          const cj = ca + (<usize>j << 2);
          let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
          let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
          if (acc) {
            c0 = v128.load(cj); c1 = v128.load(cj, 16); c2 = v128.load(cj, 32); c3 = v128.load(cj, 48);
            c4 = v128.load(cj, 64); c5 = v128.load(cj, 80); c6 = v128.load(cj, 96); c7 = v128.load(cj, 112);
          }
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            const sp = v128.load32_splat(px);
            c0 = madd(sp, v128.load(py), c0); c1 = madd(sp, v128.load(py, 16), c1);
            c2 = madd(sp, v128.load(py, 32), c2); c3 = madd(sp, v128.load(py, 48), c3);
            c4 = madd(sp, v128.load(py, 64), c4); c5 = madd(sp, v128.load(py, 80), c5);
            c6 = madd(sp, v128.load(py, 96), c6); c7 = madd(sp, v128.load(py, 112), c7);
            px += sxp;
            py += rowY;
          }
          v128.store(cj, c0); v128.store(cj, c1, 16); v128.store(cj, c2, 32); v128.store(cj, c3, 48);
          v128.store(cj, c4, 64); v128.store(cj, c5, 80); v128.store(cj, c6, 96); v128.store(cj, c7, 112);
        }
        for (; j + 4 <= J; j += 4) {
          const cj = ca + (<usize>j << 2);
          let c0 = acc ? v128.load(cj) : f32x4.splat(0);
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            c0 = madd(v128.load32_splat(px), v128.load(py), c0);
            px += sxp;
            py += rowY;
          }
          v128.store(cj, c0);
        }
        for (; j < J; j++) {
          let s: f32 = 0;
          let px = xa;
          let py = yt + (<usize>j << 2);
          for (let p = 0; p < np; p++) {
            s += load<f32>(px) * load<f32>(py);
            px += sxp;
            py += rowY;
          }
          put(ca + (<usize>j << 2), s, acc);
        }
      }
    }
  }
  if (P == 0 && !accumulate) memory.fill(c, 0, <usize>I * rowY);
}

/** C[M,K] (+)= A[M,N] · B[N,K]. */
export function matmulAB(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, accumulate: bool): void {
  broadcast(c, a, N, 1, b, M, K, N, accumulate, 0);
}

/** C[N,K] (+)= A[M,N]^T · B[M,K]; pack is PACK_FLOATS floats of scratch, or 0. */
export function matmulAtB(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, accumulate: bool, pack: usize): void {
  broadcast(c, a, 1, N, b, N, K, M, accumulate, pack);
}
