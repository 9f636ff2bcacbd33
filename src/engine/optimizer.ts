// Parameter updates, following the update equations of PyTorch's torch.optim (version 1.13 and
// later, single-tensor path, no amsgrad/nesterov/centered) so that a run can be compared step by
// step with PyTorch. Each optimizer allocates its state once; step() allocates nothing.
// State tensors are named `optimizer.<param name>.<slot>` with PyTorch's slot names.
//
// Where TrainConfig has one field for two PyTorch arguments: RMSProp's smoothing constant alpha is
// `beta2`, and RMSProp runs without momentum (`momentum` is SGD's). Adagrad and RMSProp use `eps`
// from the config, not PyTorch's per-class defaults (1e-10 and 1e-8).
import type { TrainConfig } from './config.js';
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import type { Param } from './parameters.js';
import type { NamedTensor } from './safetensors.js';
import { adagradStep, adamStep, rmspropStep, sgdStep } from './backend.js';
import { Scalar } from './parallelUpdate.js';

/** Where the optimizer's state lives: the model's arena, so the wasm updates can reach it. */
export type SlotAllocator = (n: number, like: Floats) => Floats;

const plainSlots: SlotAllocator = (n, like) => (like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));

export interface Optimizer {
  /** Updates made so far (PyTorch's `step` state); bias corrections use updates + 1 on the next step. */
  readonly updates: number;
  step(lr: number): void;
  /** Copies of the state, float32, for a checkpoint. */
  stateTensors(): NamedTensor[];
  loadState(tensors: Map<string, NamedTensor>, updates: number): void;
}

interface Slot {
  param: Param;
  name: string;
  data: Floats;
}

abstract class BaseOptimizer implements Optimizer {
  updates = 0;
  protected readonly slots: Slot[] = [];

  constructor(
    protected readonly params: readonly Param[],
    slotNames: readonly string[],
    alloc: SlotAllocator,
  ) {
    for (const p of params) {
      for (const s of slotNames) this.slots.push({ param: p, name: `optimizer.${p.name}.${s}`, data: alloc(p.data.length, p.data) });
    }
  }

  abstract step(lr: number): void;

  stateTensors(): NamedTensor[] {
    return this.slots.map((s) => ({ name: s.name, shape: s.param.shape.slice(), data: Float32Array.from(s.data) }));
  }

  loadState(tensors: Map<string, NamedTensor>, updates: number): void {
    if (!Number.isSafeInteger(updates) || updates < 0)
      throw new RecurrentError(`the optimizer's update count must be a whole number, got ${updates}`);
    for (const s of this.slots) {
      const t = tensors.get(s.name);
      if (t === undefined)
        throw new RecurrentError(
          `the checkpoint has no optimizer state ${s.name}: it was saved with another optimizer; resume with the same optimizer or start a new run`,
        );
      if (t.data.length !== s.data.length)
        throw new RecurrentError(`optimizer state ${s.name} has ${t.data.length} values but the parameter has ${s.data.length}`);
      s.data.set(t.data);
    }
    this.updates = updates;
  }
}

/** torch.optim.SGD(dampening=0, nesterov=False): b = mu*b + g (b = g on the first step), p -= lr*b. */
class Sgd extends BaseOptimizer {
  constructor(
    params: readonly Param[],
    private readonly momentum: number,
    private readonly weightDecay: number,
    alloc: SlotAllocator,
  ) {
    super(params, momentum > 0 ? ['momentum_buffer'] : [], alloc);
  }

  step(lr: number): void {
    const mu = this.momentum;
    const wd = this.weightDecay;
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k]!;
      if (sgdStep(p, g, mu > 0 ? this.slots[k]!.data : null, lr, mu, wd)) continue;
      if (mu > 0) {
        // A zero buffer makes mu*b + g equal PyTorch's b = g on the first step.
        const b = this.slots[k]!.data;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]! + wd * p[i]!;
          const bi = mu * b[i]! + gi;
          b[i] = bi;
          p[i] = p[i]! - lr * bi;
        }
      } else {
        for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * (g[i]! + wd * p[i]!);
      }
    }
    this.updates++;
  }
}

/** torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0): s += g^2, p -= lr*g/(sqrt(s)+eps). */
class Adagrad extends BaseOptimizer {
  constructor(
    params: readonly Param[],
    private readonly eps: number,
    private readonly weightDecay: number,
    alloc: SlotAllocator,
  ) {
    super(params, ['sum'], alloc);
  }

  step(lr: number): void {
    const { eps, weightDecay: wd } = this;
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k]!;
      const s = this.slots[k]!.data;
      if (adagradStep(p, g, s, lr, eps, wd)) continue;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! + wd * p[i]!;
        const si = s[i]! + gi * gi;
        s[i] = si;
        p[i] = p[i]! - (lr * gi) / (Math.sqrt(si) + eps);
      }
    }
    this.updates++;
  }
}

/** torch.optim.RMSprop(momentum=0, centered=False): v = a*v + (1-a)*g^2, p -= lr*g/(sqrt(v)+eps). */
class RmsProp extends BaseOptimizer {
  constructor(
    params: readonly Param[],
    private readonly alpha: number,
    private readonly eps: number,
    private readonly weightDecay: number,
    alloc: SlotAllocator,
  ) {
    super(params, ['square_avg'], alloc);
  }

  step(lr: number): void {
    const { alpha, eps, weightDecay: wd } = this;
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k]!;
      const v = this.slots[k]!.data;
      if (rmspropStep(p, g, v, lr, alpha, eps, wd)) continue;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! + wd * p[i]!;
        const vi = alpha * v[i]! + (1 - alpha) * gi * gi;
        v[i] = vi;
        p[i] = p[i]! - (lr * gi) / (Math.sqrt(vi) + eps);
      }
    }
    this.updates++;
  }
}

/**
 * torch.optim.Adam / AdamW (amsgrad=False). With t = updates + 1:
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *   p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
 * Adam adds weight decay to the gradient (L2, g += wd*p); AdamW decays the weights directly,
 * p *= 1 - lr*wd, before the update (Loshchilov & Hutter's decoupled weight decay).
 */
class Adam extends BaseOptimizer implements SlicedAdam {
  constructor(
    params: readonly Param[],
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly eps: number,
    private readonly weightDecay: number,
    private readonly decoupled: boolean,
    alloc: SlotAllocator,
  ) {
    super(params, ['exp_avg', 'exp_avg_sq'], alloc);
  }

  /** The next update's bias-corrected step size and sqrt(1 - b2^t), its L2 decay and AdamW's shrink. */
  private scalars(lr: number): { stepSize: number; sqrtBias2: number; l2: number; shrink: number } {
    const t = this.updates + 1;
    return {
      stepSize: lr / (1 - this.beta1 ** t),
      sqrtBias2: Math.sqrt(1 - this.beta2 ** t),
      l2: this.decoupled ? 0 : this.weightDecay,
      shrink: this.decoupled ? 1 - lr * this.weightDecay : 1,
    };
  }

  beginStep(lr: number, out: Float64Array): void {
    const { stepSize, sqrtBias2, l2, shrink } = this.scalars(lr);
    out[Scalar.b1] = this.beta1;
    out[Scalar.c1] = 1 - this.beta1;
    out[Scalar.b2] = this.beta2;
    out[Scalar.c2] = 1 - this.beta2;
    out[Scalar.stepSize] = stepSize;
    out[Scalar.sqrtBias2] = sqrtBias2;
    out[Scalar.eps] = this.eps;
    out[Scalar.l2] = l2;
    out[Scalar.shrink] = shrink;
    this.updates++;
  }

  moments(k: number): [Floats, Floats] {
    return [this.slots[2 * k]!.data, this.slots[2 * k + 1]!.data];
  }

  step(lr: number): void {
    const { beta1: b1, beta2: b2, eps } = this;
    const { stepSize, sqrtBias2, l2, shrink } = this.scalars(lr);
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k]!;
      const m = this.slots[2 * k]!.data;
      const v = this.slots[2 * k + 1]!.data;
      if (adamStep(p, g, m, v, b1, b2, stepSize, sqrtBias2, eps, l2, shrink)) continue;
      for (let i = 0; i < p.length; i++) {
        const pi = p[i]! * shrink;
        const gi = g[i]! + l2 * pi;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / sqrtBias2 + eps);
      }
    }
    this.updates++;
  }
}

/**
 * An Adam step applied by threads to slices of the tensors (parallelUpdate.ts): beginStep writes the
 * scalars step(lr) passes to the kernel and counts the update; the threads then update their slices
 * with the moments of each parameter.
 */
export interface SlicedAdam {
  beginStep(lr: number, out: Float64Array): void;
  /** Parameter k's first and second moments. */
  moments(k: number): [Floats, Floats];
}

/** The optimizer as a SlicedAdam where it is Adam or AdamW, else null. */
export function slicedAdam(o: Optimizer): SlicedAdam | null {
  return o instanceof Adam ? o : null;
}

/** `alloc` places the state (zeroed); a model's arena puts it beside the parameters, in wasm when they are. */
export function createOptimizer(config: TrainConfig, params: readonly Param[], alloc: SlotAllocator = plainSlots): Optimizer {
  const wd = config.weightDecay;
  switch (config.optimizer) {
    case 'sgd':
      return new Sgd(params, config.momentum, wd, alloc);
    case 'adagrad':
      return new Adagrad(params, config.eps, wd, alloc);
    case 'rmsprop':
      return new RmsProp(params, config.beta2, config.eps, wd, alloc);
    case 'adam':
      return new Adam(params, config.beta1, config.beta2, config.eps, wd, false, alloc);
    case 'adamw':
      return new Adam(params, config.beta1, config.beta2, config.eps, wd, true, alloc);
    default:
      throw new RecurrentError(`unknown optimizer ${JSON.stringify(config.optimizer)}`);
  }
}
