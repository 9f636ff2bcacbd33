// Matrix-product throughput of the reference kernels and of each WebAssembly kernel set this runtime
// runs (relaxed SIMD and plain SIMD on Node 22+, plain SIMD on Node 20) on the shapes the workloads
// run, in GFLOP per second of CPU time (2*M*N*K per product; on a quiet machine the same as GFLOP/s).
// The variants take turns repetition by repetition, so a load that comes and goes on the machine
// touches all of them alike; medians of the repetitions.
// Run: npm run bench -- --kernels   (or node out/bench/kernels.js after tsc)
import * as backend from '../src/engine/backend.js';
import * as reference from '../src/engine/kernels.js';
import { WasmHeap } from '../src/engine/wasmHeap.js';
import { wasmKernelSets } from '../src/engine/wasmKernels.js';

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

const PRODUCTS = ['ABt', 'AB', 'AtB'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The process's CPU time in seconds: this bench runs on one thread, and time other processes take on a loaded machine does not count. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** GFLOP per CPU second of one repetition of `seconds`. */
function rate(f: () => void, flop: number, seconds: number): number {
  let n = 0;
  const t0 = cpuSeconds();
  let t: number;
  do {
    f();
    n++;
    t = cpuSeconds();
  } while (t - t0 < seconds);
  return (n * flop) / (t - t0) / 1e9;
}

/** The three products on fresh operands of one shape: in `heap` (wasm kernels), or plain arrays (reference). */
function calls(heap: WasmHeap | null, { M, N, K }: Shape): Record<(typeof PRODUCTS)[number], () => void> {
  const floats = (n: number): Float32Array => (heap === null ? new Float32Array(n) : heap.floats(n));
  const A = floats(M * K),
    B = floats(N * K),
    C = floats(M * N),
    dC = floats(M * N),
    dA = floats(M * K),
    dB = floats(N * K);
  for (const X of [A, B, dC]) for (let i = 0; i < X.length; i++) X[i] = Math.sin(i * 0.37);
  const k = heap === null ? reference : backend;
  return {
    ABt: () => k.matmulABt(C, 0, A, 0, B, 0, M, N, K, false),
    AB: () => k.matmulAB(dA, 0, dC, 0, B, 0, M, N, K, false),
    AtB: () => k.matmulAtB(dB, 0, dC, 0, A, 0, M, N, K, true),
  };
}

export function runKernelBench(seconds = 0.2, reps = 5): Array<Record<string, string | number>> {
  const sets = wasmKernelSets();
  if (sets.length === 0) throw new Error('wasm kernels unavailable in this runtime');
  const variants = [
    { label: 'ref', heap: null as WasmHeap | null },
    ...sets.map((s) => ({ label: s === 'simd' ? 'simd' : 'relaxed', heap: WasmHeap.create(0, s) })),
  ];
  const rows: Array<Record<string, string | number>> = [];
  for (const shape of SHAPES) {
    const flop = 2 * shape.M * shape.N * shape.K;
    const row: Record<string, string | number> = { shape: `${shape.name} [${shape.M}x${shape.N}x${shape.K}]` };
    const fns = variants.map((v) => ({ label: v.label, f: calls(v.heap, shape) }));
    for (const p of PRODUCTS) {
      const rates = fns.map(() => [] as number[]);
      for (let r = 0; r < reps; r++) fns.forEach((v, i) => rates[i]!.push(rate(v.f[p], flop, v.label === 'ref' ? seconds / 4 : seconds)));
      fns.forEach((v, i) => (row[`${p} ${v.label}`] = +median(rates[i]!).toFixed(1)));
    }
    rows.push(row);
  }
  return rows;
}

if (process.argv[1]?.endsWith('kernels.js')) console.table(runKernelBench(Number(process.argv[2] ?? 0.2)));
