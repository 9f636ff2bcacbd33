// Loads the WebAssembly SIMD kernels (wasm/index.ts, embedded by scripts/buildWasm.mjs) on a given
// memory. There are two builds of them: relaxed SIMD (fused multiply-add in the products) where the
// runtime validates it (Node 20 with the flag below, Node 22 and later: Electron's and code-server's
// extension hosts), plain SIMD otherwise. Each module is compiled once per process and instantiated
// once per memory, so each arena gets kernels bound to its own memory. Everything here runs in the extension host, Node
// workers and browsers alike; where WebAssembly SIMD or shared memory is missing, `wasmKernelsAvailable()`
// says so and the engine keeps the reference kernels.
import { RELAXED_SIMD_KERNELS_BASE64, SIMD_KERNELS_BASE64 } from './wasmBinary.js';

// The engine compiles without the DOM library, which is where TypeScript declares WebAssembly; this is
// the part of it we use.
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __brand?: 'module';
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
};
declare function atob(s: string): string;

export type { WasmMemory };

/** Byte addresses in the memory; `accumulate` is 0 or 1. Shapes as in kernels.ts. */
type Product = (c: number, a: number, b: number, M: number, N: number, K: number, accumulate: number) => void;

export interface WasmKernels {
  readonly set: WasmKernelSet;
  readonly memory: WasmMemory;
  /** C[M,N] (+)= A[M,K] · B[N,K]^T. */
  readonly matmulABt: Product;
  /** C[M,K] (+)= A[M,N] · B[N,K]. */
  readonly matmulAB: Product;
  /** C[N,K] (+)= A[M,N]^T · B[M,K]; the last argument is the heap's packing scratch. */
  readonly matmulAtB: (c: number, a: number, b: number, M: number, N: number, K: number, accumulate: number, pack: number) => void;
  /** LSTM step on byte addresses: act [b,4H], c_{p-1}, c_p, tanh(c_p), h_p [b,H]. */
  readonly lstmGates: (act: number, cPrev: number, cOut: number, tanhC: number, hOut: number, b: number, H: number) => void;
  /** GRU step on byte addresses: act, hg [b,3H]; hn, h_{p-1}, h_p [b,H]. */
  readonly gruGates: (act: number, hg: number, hn: number, hPrev: number, hOut: number, b: number, H: number) => void;
  /** y = tanh(x), n floats. */
  readonly tanhInPlace: (x: number, y: number, n: number) => void;
  /** LSTM backward step: act [b,4H]; tanhC, dh, cPrev, dc (in and out) [b,H]; dIn [b,4H]. */
  readonly lstmBackward: (act: number, tanhC: number, dh: number, cPrev: number, dc: number, dIn: number, b: number, H: number) => void;
  /** GRU backward step: act, dIn, dHid [b,3H]; dh, hPrev, hn, dPrev [b,H]; accumulate 0 or 1 into dPrev. */
  readonly gruBackward: (
    act: number,
    dh: number,
    hPrev: number,
    hn: number,
    dIn: number,
    dHid: number,
    dPrev: number,
    accumulate: number,
    b: number,
    H: number,
  ) => void;
  /** da = dh (1 - h^2), n floats. */
  readonly tanhBackward: (h: number, dh: number, da: number, n: number) => void;
  /** db[N] += column sums of dC[M,N]. */
  readonly addColumnSums: (db: number, dc: number, M: number, N: number) => void;
  /** Summed loss in nats; z [rows,V] becomes softmax, or with grad 1 scale * (softmax - onehot); perRow 0 = none. */
  readonly softmaxCrossEntropy: (
    z: number,
    targets: number,
    rows: number,
    V: number,
    perRow: number,
    grad: number,
    scale: number,
  ) => number;
  /** p [rows,V] becomes scale * (p - onehot(targets)). */
  readonly crossEntropyGradient: (p: number, targets: number, rows: number, V: number, scale: number) => void;
  /** C[m,:] += W[:, ids[m]], W [N,K]; scratch of K*N floats or 0. */
  readonly gatherColumnsAdd: (c: number, ids: number, w: number, M: number, N: number, K: number, scratch: number) => void;
  /** dW[:, ids[m]] += dC[m,:], dW [N,K]; scratch of K*N floats or 0. */
  readonly scatterColumnsAdd: (dw: number, ids: number, dc: number, M: number, N: number, K: number, scratch: number) => void;
  /** A token drawn from softmax(z[V] * invT) with uniform u, or -1 when max z is not finite. */
  readonly sampleSoftmax: (z: number, V: number, invT: number, u: number) => number;
  /** Adam/AdamW on one tensor: p, g, m, v, n, beta1, 1 - beta1, beta2, 1 - beta2, lr / (1 - beta1^t), sqrt(1 - beta2^t), eps, L2 decay, AdamW shrink. */
  readonly adamStep: (
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    stepSize: number,
    sqrtBias2: number,
    eps: number,
    l2: number,
    shrink: number,
  ) => void;
  /** Adagrad on one tensor: p, g, sum, n, lr, eps, weight decay. */
  readonly adagradStep: (p: number, g: number, s: number, n: number, lr: number, eps: number, wd: number) => void;
  /** RMSprop on one tensor: p, g, square average, n, lr, alpha, 1 - alpha, eps, weight decay. */
  readonly rmspropStep: (p: number, g: number, v: number, n: number, lr: number, alpha: number, c: number, eps: number, wd: number) => void;
  /** SGD on one tensor: p, g, momentum buffer (0 = none), n, lr, momentum, weight decay. */
  readonly sgdStep: (p: number, g: number, b: number, n: number, lr: number, mu: number, wd: number) => void;
  /** Sum of squares of n floats, in double. */
  readonly sumSquares: (x: number, n: number) => number;
  /** x *= c over n floats. */
  readonly scaleInPlace: (x: number, n: number, c: number) => void;
  /** dst += src over n floats. */
  readonly addInto: (dst: number, src: number, n: number) => void;
  /** One batch-1 step of the model described by the i32 table at d (wasm/step.ts): state in place, logits out. */
  readonly stepModel: (d: number, token: number) => void;
}

export const WASM_PAGE_BYTES = 65536;
/** The most pages the module accepts (4 GiB); a shared memory must declare its maximum. */
export const WASM_MAX_PAGES = 65536;

/**
 * Which build of the kernels runs: 'relaxed-simd' (products with f32x4.relaxed_madd) or 'simd'. Both
 * equal the reference kernels within float32 rounding, but not each other bit for bit, so the threads
 * of one training run use the set of the model's heap (replicas.ts), never each their own choice.
 */
export type WasmKernelSet = 'relaxed-simd' | 'simd';

const BASE64: Record<WasmKernelSet, string> = { 'relaxed-simd': RELAXED_SIMD_KERNELS_BASE64, simd: SIMD_KERNELS_BASE64 };
const compiled = new Map<WasmKernelSet, WasmModule | null>();

/**
 * Node 20's V8 (11.3) implements relaxed SIMD whole but behind a flag, which V8 11.4 turned on for good
 * (Node 22). With it a translate update on two threads ran 1.3 times as fast on Node 20 (fused
 * multiply-adds in the products), so the engine sets the flag itself, before it compiles a module, in
 * the process's V8 (worker threads share it). Elsewhere (a browser, a newer V8, a Node without
 * process.getBuiltinModule) this does nothing.
 */
function allowRelaxedSimd(): void {
  const proc = (globalThis as { process?: { versions?: { v8?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  const [major = 0, minor = 0] = (proc?.versions?.v8 ?? '').split('.').map(Number);
  if (major !== 11 || minor >= 4) return;
  const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
  v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
}

function wasmModule(set: WasmKernelSet): WasmModule | null {
  let m = compiled.get(set);
  if (m !== undefined) return m;
  m = null;
  try {
    if (set === 'relaxed-simd') allowRelaxedSimd();
    if (typeof WebAssembly === 'object' && typeof SharedArrayBuffer === 'function') {
      const bytes = Uint8Array.from(atob(BASE64[set]), (ch) => ch.charCodeAt(0));
      // The feature test: validate() is false where SIMD, threads (shared memory) or, for the relaxed
      // build, relaxed SIMD is not supported, and it checks the very module that would run.
      if (WebAssembly.validate(bytes)) m = new WebAssembly.Module(bytes);
    }
  } catch {
    m = null;
  }
  compiled.set(set, m);
  return m;
}

/** The kernel sets this runtime can run, fastest first. */
export function wasmKernelSets(): WasmKernelSet[] {
  return (['relaxed-simd', 'simd'] as const).filter((s) => wasmModule(s) !== null);
}

let forced: WasmKernelSet | null = null;

/**
 * Makes new heaps use `set` (where this runtime runs it), or with null the fastest set again: for tests
 * and benchmarks that compare the two builds in one runtime.
 */
export function preferWasmKernelSet(set: WasmKernelSet | null): void {
  forced = set;
}

/** The set a new heap gets: the preferred one if it runs here, else the fastest, or null where none runs. */
export function wasmKernelSet(): WasmKernelSet | null {
  const sets = wasmKernelSets();
  return forced !== null && sets.includes(forced) ? forced : (sets[0] ?? null);
}

/** Whether this runtime can run the fast kernels (WebAssembly SIMD and shared memory). */
export function wasmKernelsAvailable(): boolean {
  return wasmKernelSet() !== null;
}

/** A new shared memory of `pages` pages that may grow to WASM_MAX_PAGES, or null where unsupported. */
export function createWasmMemory(pages: number): WasmMemory | null {
  if (!wasmKernelsAvailable()) return null;
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: WASM_MAX_PAGES, shared: true });
  } catch {
    return null;
  }
}

/** The kernels of `set` bound to `memory` (one made by createWasmMemory). */
export function instantiateWasmKernels(memory: WasmMemory, set: WasmKernelSet): WasmKernels {
  const m = wasmModule(set);
  if (m === null) throw new Error(`WebAssembly kernels (${set}) are not available in this runtime`);
  const e = new WebAssembly.Instance(m, { env: { memory } }).exports;
  return {
    set,
    memory,
    matmulABt: e.matmulABt as Product,
    matmulAB: e.matmulAB as Product,
    matmulAtB: e.matmulAtB as WasmKernels['matmulAtB'],
    lstmGates: e.lstmGates as WasmKernels['lstmGates'],
    gruGates: e.gruGates as WasmKernels['gruGates'],
    tanhInPlace: e.tanhInPlace as WasmKernels['tanhInPlace'],
    lstmBackward: e.lstmBackward as WasmKernels['lstmBackward'],
    gruBackward: e.gruBackward as WasmKernels['gruBackward'],
    tanhBackward: e.tanhBackward as WasmKernels['tanhBackward'],
    addColumnSums: e.addColumnSums as WasmKernels['addColumnSums'],
    softmaxCrossEntropy: e.softmaxCrossEntropy as WasmKernels['softmaxCrossEntropy'],
    crossEntropyGradient: e.crossEntropyGradient as WasmKernels['crossEntropyGradient'],
    gatherColumnsAdd: e.gatherColumnsAdd as WasmKernels['gatherColumnsAdd'],
    scatterColumnsAdd: e.scatterColumnsAdd as WasmKernels['scatterColumnsAdd'],
    sampleSoftmax: e.sampleSoftmax as WasmKernels['sampleSoftmax'],
    adamStep: e.adamStep as WasmKernels['adamStep'],
    adagradStep: e.adagradStep as WasmKernels['adagradStep'],
    rmspropStep: e.rmspropStep as WasmKernels['rmspropStep'],
    sgdStep: e.sgdStep as WasmKernels['sgdStep'],
    sumSquares: e.sumSquares as WasmKernels['sumSquares'],
    scaleInPlace: e.scaleInPlace as WasmKernels['scaleInPlace'],
    addInto: e.addInto as WasmKernels['addInto'],
    stepModel: e.stepModel as WasmKernels['stepModel'],
  };
}
