// Matrix-product throughput of the reference and WebAssembly SIMD kernels on the shapes the workloads
// run, in GFLOP/s (2*M*N*K per product), medians of several timed repetitions.
// Run: npm run bench -- --kernels   (or node out/bench/kernels.js after tsc)
import * as backend from '../src/engine/backend.js';
import * as reference from '../src/engine/kernels.js';
import { WasmHeap } from '../src/engine/wasmHeap.js';

type Product = typeof reference.matmulABt;

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
}

// The products of one training window: forward recurrent (batch x 4H x H), its input gradient, the
// weight gradient over all steps, and the decoder over all steps.
const SHAPES: Shape[] = [
  { name: 'W1 recurrent h W^T', M: 1, N: 100, K: 100 },
  { name: 'W2 recurrent h W^T', M: 32, N: 512, K: 128 },
  { name: 'W2 decoder over window', M: 2048, N: 89, K: 128 },
  { name: 'W3 recurrent h W^T', M: 32, N: 768, K: 256 },
  { name: 'W4 recurrent h W^T', M: 64, N: 2048, K: 512 },
  { name: 'square 256', M: 256, N: 256, K: 256 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function gflops(f: () => void, flop: number, seconds: number): number {
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const t0 = performance.now();
    let t: number;
    do {
      f();
      n++;
      t = performance.now();
    } while (t - t0 < seconds * 1000);
    rates.push((n * flop) / ((t - t0) / 1000) / 1e9);
  }
  return median(rates);
}

export function runKernelBench(seconds = 0.2): Array<Record<string, string | number>> {
  const heap = WasmHeap.create();
  if (heap === null) throw new Error('wasm kernels unavailable in this runtime');
  const rows: Array<Record<string, string | number>> = [];
  for (const { name, M, N, K } of SHAPES) {
    const A = heap.floats(M * K),
      B = heap.floats(N * K),
      C = heap.floats(M * N);
    const dC = heap.floats(M * N),
      dA = heap.floats(M * K),
      dB = heap.floats(N * K);
    for (const X of [A, B, dC]) for (let i = 0; i < X.length; i++) X[i] = Math.sin(i * 0.37);
    const flop = 2 * M * N * K;
    const row: Record<string, string | number> = { shape: `${name} [${M}x${N}x${K}]` };
    const cases: Array<[string, Product, () => void]> = [
      ['ABt', reference.matmulABt, () => backend.matmulABt(C, 0, A, 0, B, 0, M, N, K, false)],
      ['AB', reference.matmulAB, () => backend.matmulAB(dA, 0, dC, 0, B, 0, M, N, K, false)],
      ['AtB', reference.matmulAtB, () => backend.matmulAtB(dB, 0, dC, 0, A, 0, M, N, K, true)],
    ];
    for (const [label, ref, fast] of cases) {
      const refCall =
        label === 'ABt'
          ? () => ref(C, 0, A, 0, B, 0, M, N, K, false)
          : label === 'AB'
            ? () => ref(dA, 0, dC, 0, B, 0, M, N, K, false)
            : () => ref(dB, 0, dC, 0, A, 0, M, N, K, true);
      row[`${label} ref`] = +gflops(refCall, flop, seconds).toFixed(2);
      row[`${label} wasm`] = +gflops(fast, flop, seconds).toFixed(2);
    }
    rows.push(row);
  }
  return rows;
}

if (process.argv[1]?.endsWith('kernels.js')) console.table(runKernelBench(Number(process.argv[2] ?? 0.2)));
