// A model run one token at a time with batch 1, for sampling: a window of one step whose final state
// becomes the next step's initial state. Float64 models and the reference backend sample through it;
// a float32 model in a wasm heap takes the fused kernel of fastStepper.ts, which is tested against it.
import type { Arena } from './arena.js';
import type { Floats } from './floats.js';
import type { Stepper } from './sampling.js';
import type { Unrolled } from './unroll.js';

export class ModelStepper implements Stepper {
  private readonly state: Floats;

  constructor(
    private readonly net: Unrolled,
    arena: Arena,
  ) {
    this.state = arena.floats(net.stateSize(1));
  }

  reset(): void {
    this.state.fill(0);
  }

  feed(token: number): Floats {
    const V = this.net.config.vocabSize;
    if (!Number.isInteger(token) || token < 0 || token >= V) throw new RangeError(`token id ${token} is outside the vocabulary of ${V}`);
    const net = this.net;
    net.ids[0] = token;
    net.setState(this.state, 1, 1);
    net.forward(1, 1);
    net.getState(this.state, 1, 1, 1);
    net.decode(1, 1, 0);
    return net.logits;
  }
}
