// Training trajectories against PyTorch: scripts/trajectory_fixtures.py trained each case for 30 updates in
// PyTorch 1.13 (TBPTT(k1, k2) on B streams of a slice of the State of the Union corpus, the carried state,
// restarts and wraps, clipping, torch.optim), in float64 and in float32, from initial weights both sides
// compute from an integer hash. Here the Trainer runs the same case on the wasm kernels, on the reference
// kernels, and with batch 3 also on two threads, and must follow the float64 run: the loss and the gradient
// norm of every update, whether it clipped, and after updates 1, 5, 10, 20 and 30 every parameter,
// optimizer-state and carried-state tensor (sum, sum of squares, sampled elements).
//
// Tolerance: float32 rounding grows along a trajectory, and PyTorch's own float32 run shows how far. For a
// tensor whose float32 run lies at L2 distance g (largest element distance m) from the float64 one, ours
// may lie C = TOLERANCE_FACTOR times as far: an element C*m off, the sum C*sqrt(n)*g, the sum of squares
// C*g*(2*||x|| + C*g) (both bounds by Cauchy-Schwarz for a difference of norm C*g), plus a floor of a few
// float32 units for quantities PyTorch happens to round exactly. Losses and gradient norms: C times the
// largest float32 gap up to that update, plus the floor.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setKernelBackend, type KernelBackend } from '../../src/engine/backend.js';
import type { CellKind, TrainConfig } from '../../src/engine/config.js';
import type { NamedTensor } from '../../src/engine/safetensors.js';
import { Trainer } from '../../src/engine/trainer.js';
import { preferWasmKernelSet, wasmKernelSets, type WasmKernelSet } from '../../src/engine/wasmKernels.js';
import { sotuText } from '../../scripts/sotu.mjs';

interface Case {
  name: string;
  text: { start: number; end: number; sha256: string };
  vocabSize: number;
  model: { cell: CellKind; hidden: number; layers: number; embedding: number };
  train: Partial<TrainConfig>;
  seed: number;
  initHash: Record<string, string>;
  restarts: number;
  wraps: number;
  loss: number[];
  lossGap: number[];
  gradNorm: number[];
  gradNormGap: number[];
  clipped: boolean[];
  /** Parameters, optimizer state and carried state, in the order of each snapshot's summaries. */
  tensors: string[];
  /** Per tensor: the indices of the sampled elements. */
  elements: number[][];
  /**
   * Per snapshot, per tensor: [sum, sum of squares, L2 norm and largest element of (PyTorch's float32 run -
   * its float64 run) over the whole tensor, then the sampled elements], all but the gap from the float64 run.
   */
  summaries: number[][][];
}

interface Fixture {
  torch: string;
  updates: number;
  snapshots: number[];
  cases: Case[];
}

const FIXTURE = JSON.parse(readFileSync(new URL('../../../test/fixtures/pytorch/trajectories.json', import.meta.url), 'utf8')) as Fixture;

const TOLERANCE_FACTOR = 8;
/** Relative floor: a few float32 units (2^-23 = 1.2e-7). */
const FLOOR = 4e-7;

/** lowbias32, the integer hash of scripts/trajectory_fixtures.py's mix32. */
function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The fixture's initial weight of element i of tensor t (state_dict order): see init_value in the generator. */
function initValue(seed: number, t: number, i: number, bound: number): number {
  const key = mix32(Math.imul(seed, 0x9e3779b9) + Math.imul(t, 0x85ebca6b));
  const u = mix32(key + i) >>> 8;
  return Math.fround(((2 * u + 1 - (1 << 24)) / (1 << 24)) * bound);
}

function fnv1a(data: Float32Array): string {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let h = 0x811c9dc5;
  for (const w of words) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function initialTensors(c: Case, shapes: ReadonlyArray<{ name: string; shape: readonly number[] }>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  shapes.forEach(({ name, shape }, t) => {
    const bound = name === 'embedding.weight' ? Math.sqrt(3) : 1 / Math.sqrt(c.model.hidden);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = initValue(c.seed, t, i, bound);
    out.set(name, { name, shape: shape.slice(), data });
  });
  return out;
}

/** A finding: how far one quantity is from PyTorch's float64 value, against its tolerance. */
interface Miss {
  what: string;
  got: number;
  want: number;
  tolerance: number;
}

function ratio(m: Miss): number {
  const d = Math.abs(m.got - m.want);
  return Number.isNaN(d) ? Infinity : d / m.tolerance;
}

function describe(c: Case, run: string, update: number, m: Miss): string {
  const d = Math.abs(m.got - m.want);
  return (
    `${c.name} [${run}], update ${update}: ${m.what} is ${m.got}, PyTorch ${m.want}: ` +
    `difference ${d.toExponential(2)} > tolerance ${m.tolerance.toExponential(2)} (${ratio(m).toFixed(1)}x)`
  );
}

function elementName(shape: readonly number[], i: number): string {
  if (shape.length < 2) return `[${i}]`;
  return `[${Math.floor(i / shape[1]!)}, ${i % shape[1]!}] (element ${i})`;
}

/** Every summary of one snapshot against ours, worst first. */
function compareSnapshot(c: Case, summaries: number[][], tensors: Map<string, NamedTensor>): Miss[] {
  const misses: Miss[] = [];
  const C = TOLERANCE_FACTOR;
  assert.deepEqual(
    [...tensors.keys()].sort(),
    c.tensors.slice().sort(),
    `${c.name}: the trainer's parameters, optimizer state and carried state are the tensors PyTorch has`,
  );
  c.tensors.forEach((name, k) => {
    const [wantSum, wantSumsq, g, gmax, ...at] = summaries[k]!;
    const t = tensors.get(name)!;
    const x = t.data;
    const n = x.length;
    let sum = 0;
    let sumsq = 0;
    for (let i = 0; i < n; i++) {
      sum += x[i]!;
      sumsq += x[i]! * x[i]!;
    }
    const norm = Math.sqrt(wantSumsq!);
    const rms = norm / Math.sqrt(n);
    c.elements[k]!.forEach((i, j) => {
      const w = at[j]!;
      misses.push({ what: `${name}${elementName(t.shape, i)}`, got: x[i]!, want: w, tolerance: C * gmax! + FLOOR * (Math.abs(w) + rms) });
    });
    misses.push({ what: `sum of ${name}`, got: sum, want: wantSum!, tolerance: C * Math.sqrt(n) * g! + FLOOR * Math.sqrt(n) * norm });
    misses.push({
      what: `sum of squares of ${name}`,
      got: sumsq,
      want: wantSumsq!,
      tolerance: C * g! * (2 * norm + C * g!) + 2 * FLOOR * wantSumsq!,
    });
  });
  return misses.sort((a, b) => ratio(b) - ratio(a));
}

/** Every build of the wasm kernels this runtime runs (relaxed SIMD from Node 22), one and two threads, and the reference kernels. */
const RUNS: Array<{ backend: KernelBackend; set: WasmKernelSet | null; threads: number }> = [
  ...wasmKernelSets().flatMap((set) => [1, 2].map((threads) => ({ backend: 'wasm' as const, set, threads }))),
  { backend: 'reference', set: null, threads: 1 },
];

const corpus = sotuText();

for (const c of FIXTURE.cases) {
  const text = corpus.slice(c.text.start, c.text.end);
  for (const { backend, set, threads } of RUNS) {
    if (threads > (c.train.batch ?? 1)) continue;
    const run = `${set === 'relaxed-simd' ? 'wasm relaxed-simd' : backend}, ${threads} thread${threads > 1 ? 's' : ''}`;
    test(`${c.name} [${run}]: follows PyTorch's trajectory for ${FIXTURE.updates} updates`, (t) => {
      assert.equal(
        createHash('sha256').update(text).digest('hex'),
        c.text.sha256,
        `${c.name}: the corpus slice is the text PyTorch trained on`,
      );
      setKernelBackend(backend);
      preferWasmKernelSet(set);
      let trainer: Trainer | undefined;
      try {
        const tr = (trainer = Trainer.create(
          text,
          { task: 'lm', bidirectional: false, ...c.model },
          { ...c.train, threads } as TrainConfig,
          'char',
        ));
        assert.equal(tr.modelConfig.vocabSize, c.vocabSize, `${c.name}: vocabulary size`);
        assert.equal(tr.threads, threads, `${c.name}: threads`);
        const init = initialTensors(c, tr.model.params);
        for (const [name, tensor] of init) {
          assert.equal(fnv1a(tensor.data as Float32Array), c.initHash[name], `${c.name}: initial ${name} bit for bit as PyTorch's`);
        }
        assert.deepEqual([...init.keys()], Object.keys(c.initHash), `${c.name}: parameters in state_dict order`);
        tr.model.loadTensors(init);

        let worst = { r: 0, text: '' };
        const note = (u: number, m: Miss): void => {
          const r = ratio(m);
          if (r > worst.r) worst = { r, text: describe(c, run, u, m) };
          assert.ok(r <= 1, describe(c, run, u, m));
        };
        let lossGap = 0;
        let normGap = 0;
        let snap = 0;
        for (let u = 1; u <= FIXTURE.updates; u++) {
          const m = tr.step();
          lossGap = Math.max(lossGap, c.lossGap[u - 1]!);
          normGap = Math.max(normGap, c.gradNormGap[u - 1]!);
          const loss = c.loss[u - 1]!;
          const norm = c.gradNorm[u - 1]!;
          note(u, { what: 'the loss', got: m.lossNats, want: loss, tolerance: TOLERANCE_FACTOR * lossGap + FLOOR * loss });
          note(u, {
            what: 'the gradient norm before clipping',
            got: m.gradNorm,
            want: norm,
            tolerance: TOLERANCE_FACTOR * normGap + FLOOR * norm,
          });
          assert.equal(m.clipped, c.clipped[u - 1], `${c.name} [${run}], update ${u}: clipped ${m.clipped}, PyTorch ${c.clipped[u - 1]}`);
          if (FIXTURE.snapshots[snap] === u) {
            const misses = compareSnapshot(c, c.summaries[snap]!, tr.toCheckpoint().tensors);
            note(u, misses[0]!);
            snap++;
          }
        }
        t.diagnostic(`worst: ${worst.r.toFixed(3)} of the tolerance, ${worst.text}`);
      } finally {
        trainer?.close();
        setKernelBackend('wasm');
        preferWasmKernelSet(null);
      }
    });
  }
}
