// The stacked recurrent language model of docs/checkpoint-format.md: (embedding) -> 1-4 recurrent layers
// (rnn, lstm or gru; optionally bidirectional) -> linear decoder. The model owns the parameters and
// their gradients, named and shaped as PyTorch names them; windows over which it runs (unroll.ts) and
// its batch-1 stepper share them.
import { Arena, type FloatWidth } from './arena.js';
import { sumOfSquares } from './backend.js';
import type { ModelConfig } from './config.js';
import { RecurrentError } from './errors.js';
import { FastStepper } from './fastStepper.js';
import type { Param } from './parameters.js';
import { parameterShapes } from './parameters.js';
import { Rng } from './rng.js';
import type { NamedTensor } from './safetensors.js';
import type { Stepper } from './sampling.js';
import { ModelStepper } from './stepper.js';
import { Unrolled } from './unroll.js';

export class Model {
  readonly config: ModelConfig;
  readonly arena: Arena;
  /** In the order PyTorch's state_dict lists them. */
  readonly params: readonly Param[];
  private readonly byName = new Map<string, Param>();

  /** A model with zero parameters; see create() for a seeded one. */
  constructor(config: ModelConfig, width: FloatWidth = 'f32') {
    this.config = config;
    this.arena = new Arena(width);
    this.params = parameterShapes(config).map(({ name, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return { name, shape, data: this.arena.floats(n), grad: this.arena.floats(n) };
    });
    for (const p of this.params) this.byName.set(p.name, p);
  }

  /** A model initialised from `seed` as PyTorch initialises it (see initialize). */
  static create(config: ModelConfig, seed: number, width: FloatWidth = 'f32'): Model {
    const m = new Model(config, width);
    m.initialize(new Rng(seed));
    return m;
  }

  /**
   * PyTorch's default initialisation: nn.Embedding N(0, 1); every nn.RNN/LSTM/GRU weight and bias
   * U(-1/sqrt(H), 1/sqrt(H)); nn.Linear weight (kaiming_uniform with a = sqrt(5)) and bias
   * U(-1/sqrt(in), 1/sqrt(in)). Tensors are filled in state_dict order, elements in row-major order.
   */
  initialize(rng: Rng): void {
    // Recurrent weights by the hidden size of their own stack: a translate model's decoder is wider.
    const bounds = new Map<string, number>();
    for (const p of this.params) {
      const m = /^(.*)rnn\.weight_hh_l0$/.exec(p.name);
      if (m !== null) bounds.set(m[1]!, 1 / Math.sqrt(p.shape[1]!));
      if (LINEAR.test(p.name) && p.name.endsWith('.weight')) bounds.set(p.name.slice(0, -'weight'.length), 1 / Math.sqrt(p.shape[1]!));
    }
    for (const p of this.params) {
      const d = p.data;
      if (/(^|\.|label_)embedding\.weight$/.test(p.name)) {
        for (let i = 0; i < d.length; i++) d[i] = normal(rng);
      } else {
        const layer = LINEAR.test(p.name) ? p.name.slice(0, p.name.lastIndexOf('.') + 1) : p.name.slice(0, p.name.indexOf('rnn.'));
        const bound = bounds.get(layer)!;
        for (let i = 0; i < d.length; i++) d[i] = rng.uniform(-bound, bound);
      }
    }
  }

  param(name: string): Param {
    const p = this.byName.get(name);
    if (p === undefined) throw new Error(`model has no parameter ${name}`);
    return p;
  }

  get parameterCount(): number {
    return this.params.reduce((n, p) => n + p.data.length, 0);
  }

  /** Whether every parameter is finite (a sum of squares in double overflows only for values past 1e154). */
  parametersFinite(): boolean {
    for (const p of this.params) if (!Number.isFinite(sumOfSquares(p.data))) return false;
    return true;
  }

  zeroGrads(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** Copies every parameter from tensors named as PyTorch names them; extra tensors are ignored. */
  loadTensors(tensors: ReadonlyMap<string, NamedTensor>): void {
    for (const p of this.params) {
      const t = tensors.get(p.name);
      if (t === undefined) throw new RecurrentError(`the checkpoint has no tensor ${p.name}, which this model needs`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]) || t.data.length !== p.data.length) {
        throw new RecurrentError(`tensor ${p.name} has shape [${t.shape.join(', ')}] but the model needs [${p.shape.join(', ')}]`);
      }
      p.data.set(t.data);
    }
  }

  /** float32 copies of the parameters, for a checkpoint. */
  exportTensors(): NamedTensor[] {
    return this.params.map((p) => ({ name: p.name, shape: p.shape.slice(), data: new Float32Array(p.data) }));
  }

  /** The network over windows of up to maxSteps positions and maxBatch streams, sharing these parameters. */
  unroll(maxBatch: number, maxSteps: number): Unrolled {
    return new Unrolled(this, maxBatch, maxSteps);
  }

  /**
   * One token at a time, batch 1, forward only: what sampling drives. A float32 model in a wasm heap
   * gets the fused step kernel (fastStepper.ts), any other a window of one step (stepper.ts). Each
   * call allocates buffers that live as long as the model: make one and keep it.
   */
  stepper(): Stepper {
    if (this.config.task === 'classify') throw new RecurrentError('a classifier reads a text and names its label; it does not write text');
    if (this.config.task === 'translate')
      throw new RecurrentError('a translate model writes a text for a text: use recurrent predict CHECKPOINT');
    if (this.config.task === 'generate') {
      throw new RecurrentError("a generate model writes from a label's state: use recurrent predict CHECKPOINT with the label as input");
    }
    if (this.config.bidirectional) {
      throw new RecurrentError('a bidirectional model reads the whole input at once, so it cannot generate text token by token');
    }
    return FastStepper.create(this) ?? new ModelStepper(this.unroll(1, 1), this.arena);
  }
}

/** The nn.Linear layers: the language model's decoder (a translate model's is decoder.decoder) and the classifier. */
const LINEAR = /(^|\.)(decoder|classifier)\.(weight|bias)$/;

/** N(0, 1) by Box-Muller; 1 - u keeps the logarithm finite. */
function normal(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
