// A float32 model runs on the WebAssembly kernels (its arena lives in a wasm heap), and its loss and
// every gradient agree with the float64 model (whose gradients the finite-difference checks verify)
// as closely as float32 allows: within the same bound as a float32 model on the reference kernels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setKernelBackend } from '../../src/engine/backend.js';
import { validateModelConfig, type CellKind } from '../../src/engine/config.js';
import type { FloatWidth } from '../../src/engine/arena.js';
import { Model } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { kernelSetsUnderTest, withKernelSet } from './support/kernelSets.js';

interface Run {
  model: Model;
  loss: number;
}

function lossAndGrads(cell: CellKind, embedding: number, width: FloatWidth): Run {
  // Odd sizes everywhere, so every kernel takes its edge paths.
  const config = validateModelConfig({ cell, hidden: 7, layers: 2, embedding, vocabSize: 11 });
  const B = 3,
    T = 5;
  const model = Model.create(config, 42, width);
  const net = model.unroll(B, T);
  const rng = new Rng(9);
  for (let i = 0; i < B * T; i++) {
    net.ids[i] = rng.int(11);
    net.targets[i] = rng.int(11);
  }
  const state = model.arena.floats(net.stateSize(B));
  for (let i = 0; i < state.length; i++) state[i] = rng.uniform(-0.5, 0.5);
  net.setState(state, B, T);
  net.forward(B, T);
  net.decode(B, T, 0);
  const loss = net.loss(B, T, 0);
  model.zeroGrads();
  net.backward(B, T, 0, 1);
  return { model, loss };
}

/** Worst |g - exact| over a tensor, relative to the tensor's largest exact gradient. */
function worst(run: Run, exact: Run): { err: number; name: string } {
  let out = { err: 0, name: '' };
  exact.model.params.forEach((p, k) => {
    const g = run.model.params[k]!.grad;
    let scale = 1e-12;
    for (let i = 0; i < p.grad.length; i++) scale = Math.max(scale, Math.abs(p.grad[i]!));
    for (let i = 0; i < p.grad.length; i++) {
      const e = Math.abs(g[i]! - p.grad[i]!) / scale;
      if (e > out.err) out = { err: e, name: p.name };
    }
  });
  return out;
}

for (const { name, set, skip } of kernelSetsUnderTest()) {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    for (const embedding of [0, 5]) {
      test(
        `${name}: a float32 ${cell} (${embedding ? 'embedding' : 'one-hot'}, 2 layers) on wasm kernels matches float64 as float32 allows`,
        { skip },
        () => {
          const exact = lossAndGrads(cell, embedding, 'f64');
          const fast = withKernelSet(set, () => lossAndGrads(cell, embedding, 'f32'));
          assert.equal(fast.model.arena.backend, 'wasm', 'a float32 model must be placed in a wasm heap');
          assert.equal(fast.model.arena.wasmHeap?.kernels.set, set);
          setKernelBackend('reference');
          let ref: Run;
          try {
            ref = lossAndGrads(cell, embedding, 'f32');
          } finally {
            setKernelBackend('wasm');
          }
          assert.equal(ref.model.arena.backend, 'reference');
          const lossErr = Math.abs(fast.loss - exact.loss) / exact.loss;
          assert.ok(lossErr < 1e-6, `loss: expected ${exact.loss} (float64), got ${fast.loss} (relative error ${lossErr})`);
          const w = worst(fast, exact);
          const r = worst(ref, exact);
          // Float32 carries ~6e-8 relative per rounding; a few hundred roundings deep, 1e-5 is the bound.
          assert.ok(
            w.err < 1e-5,
            `gradients: expected within 1e-5 of float64 (relative to each tensor's largest), got ${w.err.toExponential(2)} in ${w.name}; the reference float32 kernels give ${r.err.toExponential(2)} in ${r.name}`,
          );
        },
      );
    }
  }
}
