// The WebAssembly products equal the reference products of kernels.ts within float32 rounding, on many
// shapes (odd sizes, sizes around the register blocks and cache tiles, one row, one column), at
// unaligned offsets, with and without accumulation, in every kernel set this runtime runs (the relaxed
// SIMD build's fused multiply-adds round once where the other build rounds twice, so the two differ
// in the last bits, both within the bound); and the backend switch falls back to the reference
// wherever a buffer is not in a wasm heap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as backend from '../../src/engine/backend.js';
import * as gates from '../../src/engine/gates.js';
import * as reference from '../../src/engine/kernels.js';
import { Rng } from '../../src/engine/rng.js';
import { WasmHeap } from '../../src/engine/wasmHeap.js';
import { wasmKernelsAvailable, wasmKernelSet, wasmKernelSets } from '../../src/engine/wasmKernels.js';
import { kernelSetsUnderTest } from './support/kernelSets.js';

type Kind = 'ABt' | 'AB' | 'AtB';

/** Operand lengths of each product: C, A, B for sizes M, N, K as the kernels name them. */
function sizes(kind: Kind, M: number, N: number, K: number): [number, number, number] {
  if (kind === 'ABt') return [M * N, M * K, N * K];
  if (kind === 'AB') return [M * K, M * N, N * K];
  return [N * K, M * N, M * K];
}

/** Terms summed into each element of C: the bound on rounding grows with it. */
function terms(kind: Kind, M: number, N: number, K: number): number {
  return kind === 'ABt' ? K : kind === 'AB' ? N : M;
}

const u = 2 ** -24;

function compare(h: WasmHeap, kind: Kind, M: number, N: number, K: number, accumulate: boolean, rng: Rng): void {
  const [nc, na, nb] = sizes(kind, M, N, K);
  // Odd offsets put the operands off the 16-byte boundaries the heap aligns to.
  const oc = rng.int(3),
    oa = rng.int(3),
    ob = rng.int(3);
  const C = h.floats(nc + oc),
    A = h.floats(na + oa),
    B = h.floats(nb + ob);
  for (const X of [C, A, B]) for (let i = 0; i < X.length; i++) X[i] = rng.uniform(-1, 1);
  const before = Float32Array.from(C);
  const want = Float32Array.from(C);
  reference[`matmul${kind}`](want, oc, A, oa, B, ob, M, N, K, accumulate);
  backend[`matmul${kind}`](C, oc, A, oa, B, ob, M, N, K, accumulate);
  // |C| <= sum |a||b| (+ |C before|): the worst case of summing `terms` float32 products is
  // (terms + 2) u times that, u = 2^-24 (the reference itself sums in double and rounds once). A fused
  // multiply-add rounds once instead of twice, so the bound holds for both kernel sets.
  const absA = Float64Array.from(A, Math.abs),
    absB = Float64Array.from(B, Math.abs);
  const mag = new Float64Array(nc + oc);
  reference[`matmul${kind}`](mag, oc, absA, oa, absB, ob, M, N, K, false);
  const n = terms(kind, M, N, K);
  for (let i = 0; i < oc; i++) assert.equal(C[i], before[i], `${kind} wrote before its output at ${i}`);
  for (let i = oc; i < nc + oc; i++) {
    const bound = (n + 2) * u * (mag[i]! + (accumulate ? Math.abs(before[i]!) : 0)) + 1e-30;
    const err = Math.abs(C[i]! - want[i]!);
    if (!(err <= bound)) {
      assert.fail(
        `${kind} M=${M} N=${N} K=${K} accumulate=${accumulate}: element ${i - oc} expected ${want[i]} (reference), got ${C[i]}; error ${err} > bound ${bound}`,
      );
    }
  }
}

/** Fails naming element i of `what` if |got - want| > tol. */
function near(got: number, want: number, tol: number, what: string): void {
  if (!(Math.abs(got - want) <= tol))
    assert.fail(`${what}: expected ${want} (reference), got ${got}; error ${Math.abs(got - want)} > ${tol}`);
}

for (const { name, heap, skip } of kernelSetsUnderTest()) {
  test(`${name}: products equal the reference within float32 rounding on edge shapes`, { skip }, () => {
    const rng = new Rng(7);
    const edge = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17];
    for (const kind of ['ABt', 'AB', 'AtB'] as const) {
      for (const M of edge)
        for (const N of [1, 3, 4, 8, 9, 13])
          for (const K of [1, 4, 5, 8, 11, 17]) {
            compare(heap!, kind, M, N, K, rng.next() < 0.5, rng);
          }
    }
  });

  test(`${name}: products equal the reference across the cache tiles (sizes past 64 and 128)`, { skip }, () => {
    const rng = new Rng(11);
    const shapes: Array<[number, number, number]> = [
      [65, 33, 70],
      [130, 9, 131],
      [3, 259, 129],
      [129, 5, 257],
      [32, 512, 128],
      [1, 100, 100],
      [200, 89, 64],
      [66, 130, 3],
    ];
    for (const kind of ['ABt', 'AB', 'AtB'] as const) {
      for (const [M, N, K] of shapes) for (const acc of [false, true]) compare(heap!, kind, M, N, K, acc, rng);
    }
  });

  test(`${name}: products equal the reference on random shapes`, { skip }, () => {
    const rng = new Rng(3);
    for (let t = 0; t < 60; t++) {
      const kind = (['ABt', 'AB', 'AtB'] as const)[t % 3]!;
      compare(heap!, kind, 1 + rng.int(70), 1 + rng.int(70), 1 + rng.int(70), rng.next() < 0.5, rng);
    }
  });

  test(`${name}: a product with an empty reduction sets C to zero, or leaves it when accumulating`, { skip }, () => {
    const h = heap!;
    for (const kind of ['AB', 'AtB'] as const) {
      const C = h.floats(12).fill(5);
      const A = h.floats(4),
        B = h.floats(4);
      // AB with N = 0 and AtB with M = 0 sum nothing.
      if (kind === 'AB') backend.matmulAB(C, 0, A, 0, B, 0, 3, 0, 4, true);
      else backend.matmulAtB(C, 0, A, 0, B, 0, 0, 3, 4, true);
      assert.deepEqual([...C], Array(12).fill(5), `${kind} accumulating an empty sum changed C`);
      if (kind === 'AB') backend.matmulAB(C, 0, A, 0, B, 0, 3, 0, 4, false);
      else backend.matmulAtB(C, 0, A, 0, B, 0, 0, 3, 4, false);
      assert.deepEqual([...C], Array(12).fill(0), `${kind} storing an empty sum left C non-zero`);
    }
  });

  // The reference computes each gate in double and rounds it once; the kernels evaluate exp and tanh in
  // float32 (a few ulps, 8u here) and round every product and sum, so an output's error is its own few
  // ulps plus its inputs' errors carried through the equation (bounds below from the reference values).
  test(`${name}: LSTM gates and tanh equal the reference within a few float32 roundings, over the whole input range`, { skip }, () => {
    const h = heap!;
    const rng = new Rng(5);
    for (const [b, H] of [
      [1, 1],
      [3, 7],
      [2, 16],
      [4, 33],
    ] as const) {
      const act = h.floats(4 * b * H),
        c = h.floats(2 * b * H),
        tanhC = h.floats(b * H),
        hOut = h.floats(b * H);
      // Pre-activations from tiny to saturating, including exactly 0 and the |x| = 0.625 switch.
      for (let i = 0; i < act.length; i++) act[i] = [0, 0.625, -0.625, 1e-6][i % 37] ?? rng.uniform(-1, 1) * 10 ** rng.uniform(-4, 2);
      for (let i = 0; i < b * H; i++) c[i] = rng.uniform(-3, 3);
      const want = { act: Float32Array.from(act), c: Float32Array.from(c), tanhC: new Float32Array(b * H), h: new Float32Array(b * H) };
      gates.lstmGates(want.act, 0, want.c, 0, b * H, want.tanhC, 0, want.h, 0, b, H);
      backend.lstmGates(act, 0, c, 0, b * H, tanhC, 0, hOut, 0, b, H);
      const tiny = 1e-37;
      for (let i = 0; i < act.length; i++) near(act[i]!, want.act[i]!, 8 * u * Math.abs(want.act[i]!) + tiny, `gate ${i} (b=${b}, H=${H})`);
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < H; j++) {
          const k = r * H + j;
          const [gi, gf, gg, go] = [0, 1, 2, 3].map((q) => want.act[r * 4 * H + q * H + j]!) as [number, number, number, number];
          const cPrev = want.c[k]!;
          const tc = want.tanhC[k]!;
          // c = f c' + i g: each gate's 8u and the two roundings of the products and the sum.
          const tolC = 20 * u * (Math.abs(gf * cPrev) + Math.abs(gi * gg)) + tiny;
          const tolT = (1 - tc * tc) * tolC + 8 * u * Math.abs(tc) + tiny;
          const tolH = Math.abs(go) * tolT + 10 * u * Math.abs(go * tc) + tiny;
          near(c[b * H + k]!, want.c[b * H + k]!, tolC, `c[${k}] (b=${b}, H=${H})`);
          near(tanhC[k]!, tc, tolT, `tanh c[${k}] (b=${b}, H=${H})`);
          near(hOut[k]!, want.h[k]!, tolH, `h[${k}] (b=${b}, H=${H})`);
        }
      }
    }
    const x = h.floats(1003),
      y = h.floats(1003);
    for (let i = 0; i < x.length; i++) x[i] = (i - 501) / 25;
    backend.tanhInto(x, 0, y, 0, x.length);
    for (let i = 0; i < x.length; i++) near(y[i]!, Math.fround(Math.tanh(x[i]!)), 8 * u * Math.abs(Math.tanh(x[i]!)), `tanh(${x[i]})`);
  });

  test(`${name}: GRU gates equal the reference within a few float32 roundings`, { skip }, () => {
    const h = heap!;
    const rng = new Rng(8);
    for (const [b, H] of [
      [1, 1],
      [3, 7],
      [2, 16],
      [5, 13],
    ] as const) {
      const act = h.floats(3 * b * H),
        hg = h.floats(3 * b * H),
        hn = h.floats(b * H),
        hs = h.floats(2 * b * H);
      for (const X of [act, hg]) for (let i = 0; i < X.length; i++) X[i] = rng.uniform(-1, 1) * 10 ** rng.uniform(-3, 1.5);
      for (let i = 0; i < b * H; i++) hs[i] = rng.uniform(-1, 1);
      const pre = { act: Float32Array.from(act), hg: Float32Array.from(hg), h: Float32Array.from(hs) };
      const want = { act: Float32Array.from(act), hn: new Float32Array(b * H), hs: Float32Array.from(hs) };
      gates.gruGates(want.act, 0, pre.hg, 0, want.hn, 0, want.hs, 0, b * H, b, H);
      backend.gruGates(act, 0, hg, 0, hn, 0, hs, 0, b * H, b, H);
      const tiny = 1e-37;
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < H; j++) {
          const a = r * 3 * H + j;
          const k = r * H + j;
          const what = `(b=${b}, H=${H}, row ${r}, unit ${j})`;
          // r and z: the sum a + hg is rounded to float32 first (relative error u), which moves s(x) by
          // s (1 - s) u |x| on top of the sigmoid's own 8u.
          const gate = (q: number): number => {
            const s = want.act[a + q * H]!;
            const x = pre.act[a + q * H]! + pre.hg[a + q * H]!;
            return 8 * u * s + s * (1 - s) * u * Math.abs(x) + tiny;
          };
          const [tolR, tolZ] = [gate(0), gate(1)];
          const rg = want.act[a]!,
            z = want.act[a + H]!,
            n = want.act[a + 2 * H]!;
          const hgN = pre.hg[a + 2 * H]!;
          // n = tanh(a_n + r hg_n): r's error times hg_n, and the product's and sum's roundings.
          const arg = Math.abs(pre.act[a + 2 * H]!) + Math.abs(rg * hgN);
          const tolN = (1 - n * n) * (tolR * Math.abs(hgN) + 3 * u * arg) + 8 * u * Math.abs(n) + tiny;
          // h = (1 - z) n + z h': z's and n's errors, and four roundings.
          const hPrev = pre.h[k]!;
          const tolH = Math.abs(1 - z) * tolN + Math.abs(n - hPrev) * tolZ + 6 * u * (Math.abs((1 - z) * n) + Math.abs(z * hPrev)) + tiny;
          near(act[a]!, rg, tolR, `r ${what}`);
          near(act[a + H]!, z, tolZ, `z ${what}`);
          near(act[a + 2 * H]!, n, tolN, `n ${what}`);
          near(hn[k]!, want.hn[k]!, 0, `hg_n ${what}`);
          near(hs[b * H + k]!, want.hs[b * H + k]!, tolH, `h ${what}`);
        }
      }
    }
  });
}

test('heap views stay valid and in use by the kernels after the memory grows', { skip: !wasmKernelsAvailable() }, () => {
  const h = WasmHeap.create(16)!;
  const A = h.floats(4).fill(1),
    B = h.floats(4).fill(2);
  const before = h.reservedBytes;
  const big = h.floats(1 << 20); // 4 MiB: forces the memory to grow
  assert.ok(h.reservedBytes > before, `expected the heap to grow past ${before} bytes, it has ${h.reservedBytes}`);
  assert.equal(big[big.length - 1], 0, 'fresh floats must be zero');
  const C = h.floats(1);
  backend.matmulABt(C, 0, A, 0, B, 0, 1, 1, 4, false);
  assert.equal(C[0], 8, `expected A·B = 8 through views made before and after growth, got ${C[0]}`);
  assert.ok(WasmHeap.of(A) === h && WasmHeap.of(C) === h, 'views from before and after growth must map to the same heap');
});

test('views a heap hands out after another heap grew still run on the wasm kernels', { skip: !wasmKernelsAvailable() }, () => {
  // V8 gives every shared memory of a thread a new buffer object when any of them grows: the engine
  // once missed those views and ran the reference kernels on them (a second model built after the
  // first grew its heap, e.g. a loaded checkpoint beside a training run).
  const first = WasmHeap.create(16)!;
  const A = first.floats(4);
  const second = WasmHeap.create(16)!;
  second.floats(1 << 20);
  const B = first.floats(4);
  assert.ok(
    WasmHeap.of(A) === first && WasmHeap.of(B) === first,
    'views of the first heap, before and after the second grew, must map to it',
  );
  assert.ok(WasmHeap.of(second.floats(1)) === second);
});

test('products on Float64Array or ordinary buffers run the reference kernels', () => {
  const A = Float64Array.from([1, 2, 3, 4]),
    B = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
  const C = new Float64Array(1);
  backend.matmulABt(C, 0, A, 0, B, 0, 1, 1, 4, false);
  assert.equal(C[0], 1 * 0.1 + 2 * 0.2 + 3 * 0.3 + 4 * 0.4, `expected the double-precision reference sum, got ${C[0]}`);
  const C32 = new Float32Array(1);
  backend.matmulABt(C32, 0, Float32Array.from(A), 0, Float32Array.from(B), 0, 1, 1, 4, false);
  assert.equal(C32[0], Math.fround(3), `expected fround(3) from the reference on plain Float32Arrays, got ${C32[0]}`);
});

test('the backend reports wasm, on relaxed SIMD on every supported Node, and reference when switched off', () => {
  assert.equal(wasmKernelsAvailable(), true, `Node ${process.version} has WebAssembly SIMD and shared memory; the kernels must load`);
  // Node 22 and later validate relaxed SIMD (Electron's and code-server's extension hosts); Node 20 does once
  // the engine has set V8's flag, which it must have done here: the command line and the tests run on Node 20.
  assert.deepEqual(wasmKernelSets(), ['relaxed-simd', 'simd']);
  assert.equal(wasmKernelSet(), 'relaxed-simd');
  assert.equal(backend.kernelBackend(), 'wasm');
  backend.setKernelBackend('reference');
  try {
    assert.equal(backend.kernelBackend(), 'reference');
  } finally {
    backend.setKernelBackend('wasm');
  }
});
