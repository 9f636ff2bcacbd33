// The engine against PyTorch: checkpoints written by scripts/pytorch_fixtures.py (the module of
// docs/checkpoint-format.md, PyTorch's initialisation) with the per-token losses and the gradients of the
// summed loss that PyTorch computed in float64 for a short text. The tests run the `recurrent eval`
// contract: zero initial state over the whole sequence, perToken[i-1] = -ln p(t_i | t_<i).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FloatWidth } from '../../src/engine/arena.js';
import { readCheckpointFile, type Checkpoint } from '../../src/engine/checkpoint.js';
import { Model } from '../../src/engine/model.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

interface Fixture {
  checkpoint: string;
  text: string;
  tokens: number[];
  perToken: number[];
  loss: number;
  grads: Record<string, number[]>;
}

const DIR = new URL('../../../test/fixtures/pytorch/', import.meta.url);
const CASES = ['rnn_onehot', 'lstm_onehot', 'gru_onehot', 'rnn_embed_2layers', 'lstm_embed_2layers', 'gru_embed_2layers'];

// The contract's bound for a float32 model, and a bound for float32 gradients of a summed loss over
// ~40 steps, relative to the tensor's largest gradient (measured: below 3e-7). A float64 model run on the
// same float32 weights must agree with PyTorch's float64 run to rounding (measured: below 1e-15).
const LOSS_TOL_F32 = 1e-4;
const GRAD_TOL_F32 = 1e-5;
const TOL_F64 = 1e-12;

interface Evaluation {
  perToken: Float64Array;
  grads: Map<string, Float64Array>;
}

/** Zero state, one window over the whole text, loss on every position, backward of the summed loss. */
function evaluate(ck: Checkpoint, ids: Int32Array, width: FloatWidth): Evaluation {
  const model = new Model(ck.config, width);
  model.loadTensors(ck.tensors);
  const T = ids.length - 1;
  const net = model.unroll(1, T);
  net.ids.set(ids.subarray(0, T));
  net.targets.set(ids.subarray(1));
  net.setState(null, 1, T);
  net.forward(1, T);
  net.decode(1, T, 0);
  const perToken = new Float64Array(T);
  net.loss(1, T, 0, perToken, 0);
  model.zeroGrads();
  net.backward(1, T, 0, 1);
  return { perToken, grads: new Map(model.params.map((p) => [p.name, Float64Array.from(p.grad)])) };
}

function worst(got: ArrayLike<number>, want: readonly number[], relativeTo = 1): { diff: number; at: number } {
  let diff = 0;
  let at = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / relativeTo;
    if (!(d <= diff)) [diff, at] = [d, i]; // NaN counts as the worst
  }
  return { diff, at };
}

for (const name of CASES) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Fixture;

  for (const width of ['f32', 'f64'] as const) {
    test(`${name} (${width}): per-token losses and every gradient equal PyTorch's`, async (t) => {
      const ck = await readCheckpointFile(fileURLToPath(new URL(fx.checkpoint, DIR)));
      const ids = Tokenizer.fromSpec(ck.tokenizer).encode(fx.text);
      assert.deepEqual([...ids], fx.tokens, "the char tokenizer gives PyTorch's token ids");
      const { perToken, grads } = evaluate(ck, ids, width);

      const lossTol = width === 'f32' ? LOSS_TOL_F32 : TOL_F64;
      const l = worst(perToken, fx.perToken);
      const mean = perToken.reduce((a, b) => a + b, 0) / perToken.length;
      t.diagnostic(
        `${name} ${width}: worst per-token loss difference ${l.diff.toExponential(2)} nats; mean ${mean.toFixed(6)} vs ${fx.loss.toFixed(6)}`,
      );
      assert.ok(
        l.diff <= lossTol,
        `per-token loss at ${l.at + 1}: expected ${fx.perToken[l.at]}, got ${perToken[l.at]} (difference ${l.diff.toExponential(2)} > ${lossTol})`,
      );
      assert.ok(Math.abs(mean - fx.loss) <= lossTol, `mean loss: expected ${fx.loss}, got ${mean}`);

      const gradTol = width === 'f32' ? GRAD_TOL_F32 : TOL_F64;
      let worstAll = { name: '', diff: 0 };
      assert.deepEqual([...grads.keys()].sort(), Object.keys(fx.grads).sort(), 'the same parameter names as PyTorch');
      for (const [pname, want] of Object.entries(fx.grads)) {
        const scale = Math.max(1e-3, ...want.map(Math.abs));
        const g = worst(grads.get(pname)!, want, scale);
        if (!(g.diff <= worstAll.diff)) worstAll = { name: pname, diff: g.diff };
        assert.ok(
          g.diff <= gradTol,
          `gradient of ${pname}[${g.at}]: expected ${want[g.at]}, got ${grads.get(pname)![g.at]} (difference ${(g.diff * scale).toExponential(2)}, ${g.diff.toExponential(2)} of the tensor's largest ${scale.toExponential(2)}; tolerance ${gradTol})`,
        );
      }
      t.diagnostic(
        `${name} ${width}: worst gradient difference ${worstAll.diff.toExponential(2)} (relative to the tensor's largest), in ${worstAll.name}`,
      );
    });
  }
}
