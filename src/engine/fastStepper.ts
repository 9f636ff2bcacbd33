// The batch-1 stepper of a float32 model whose buffers live in a wasm heap: each token is one call
// to the fused step kernel (wasm/step.ts), which reads the model's parameters where they are, so the
// stepper always runs on the current weights. Its state has ModelStepper's layout, [layer, (h, c), H].
import * as T from '../../wasm/stepTable.js';
import { GATES } from './config.js';
import type { Floats } from './floats.js';
import type { Stepper } from './sampling.js';
import type { ParamLookup } from './unroll.js';
import { WasmHeap } from './wasmHeap.js';
import type { WasmKernels } from './wasmKernels.js';

const CELL_CODE = { rnn: T.CELL_RNN, lstm: T.CELL_LSTM, gru: T.CELL_GRU } as const;
const LAYER_PARAMS = [
  ['weight_ih', T.LAYER_WEIGHT_IH],
  ['weight_hh', T.LAYER_WEIGHT_HH],
  ['bias_ih', T.LAYER_BIAS_IH],
  ['bias_hh', T.LAYER_BIAS_HH],
] as const;

export class FastStepper implements Stepper {
  private readonly step: WasmKernels['stepModel'];
  /** The i32 table wasm/step.ts reads (wasm/stepTable.ts): the model's addresses and sizes. */
  private readonly table: Int32Array;
  private readonly state: Float32Array;
  private readonly logits: Float32Array;
  private readonly vocabSize: number;

  private constructor(model: ParamLookup, heap: WasmHeap) {
    const cfg = model.config;
    const arena = model.arena;
    const H = cfg.hidden;
    const gates = GATES[cfg.cell];
    const stateCount = cfg.cell === 'lstm' ? 2 : 1;
    this.step = heap.kernels.stepModel;
    this.vocabSize = cfg.vocabSize;
    this.state = arena.floats(cfg.layers * stateCount * H) as Float32Array;
    this.logits = arena.floats(cfg.vocabSize) as Float32Array;
    const act = arena.floats(gates * H);
    const hiddenSide = cfg.cell === 'gru' ? arena.floats(gates * H) : null;
    const aux = arena.floats(H);
    const t = arena.ints(T.HEAD_WORDS + T.LAYER_WORDS * cfg.layers);
    // Every buffer the kernel reads must be in the memory it runs on; the arena puts them all there.
    const addr = (x: Floats | null): number => {
      if (x === null) return 0;
      if (WasmHeap.of(x) !== heap) throw new Error('fast stepper: a model buffer is outside the wasm heap of its arena');
      return x.byteOffset;
    };
    const param = (name: string): number => addr(model.param(name).data);
    t[T.CELL] = CELL_CODE[cfg.cell];
    t[T.LAYERS] = cfg.layers;
    t[T.HIDDEN] = H;
    t[T.VOCABULARY] = cfg.vocabSize;
    t[T.EMBEDDING] = cfg.embedding > 0 ? param('embedding.weight') : 0;
    t[T.EMBEDDING_SIZE] = cfg.embedding;
    t[T.DECODER_WEIGHT] = param('decoder.weight');
    t[T.DECODER_BIAS] = param('decoder.bias');
    t[T.LOGITS] = addr(this.logits);
    t[T.GATE_SCRATCH] = addr(act);
    t[T.HIDDEN_SIDE_SCRATCH] = addr(hiddenSide);
    t[T.SCRATCH] = addr(aux);
    t[T.STATE] = addr(this.state);
    for (let l = 0; l < cfg.layers; l++) {
      for (const [name, word] of LAYER_PARAMS) t[T.HEAD_WORDS + T.LAYER_WORDS * l + word] = param(`rnn.${name}_l${l}`);
    }
    this.table = t;
  }

  /**
   * The fused stepper of a unidirectional model whose buffers live in a wasm heap, or null (float64
   * models, the reference backend, bidirectional models), where ModelStepper serves.
   */
  static create(model: ParamLookup): FastStepper | null {
    if (model.config.bidirectional || model.arena.backend !== 'wasm') return null;
    const heap = WasmHeap.of(model.param('decoder.weight').data);
    return heap === undefined ? null : new FastStepper(model, heap);
  }

  reset(): void {
    this.state.fill(0);
  }

  feed(token: number): Floats {
    if (!Number.isInteger(token) || token < 0 || token >= this.vocabSize) {
      throw new RangeError(`token id ${token} is outside the vocabulary of ${this.vocabSize}`);
    }
    this.step(this.table.byteOffset, token);
    return this.logits;
  }
}
