// Many-to-many: the translate task's encoder-decoder over a batch of examples of different lengths,
//   source tokens -> encoder (encoder.ts: 1-4 layers, bidirectional or not) -> each layer's final
//   states, both directions concatenated -> the initial state of the same layer of the decoder, a
//   language model over the target vocabulary (unroll.ts) D*H units wide -> logits -> cross-entropy.
// Training feeds the decoder the target (teacher forcing) as generate feeds its text: the end token,
// then the target's tokens; it predicts the target's tokens, then the end token. Padded target
// positions have the target -1, skipped by the cross-entropy kernels, so padding changes nothing.
//
// Why concatenated and not projected: the decoder of layer k starts exactly from [h_fwd, h_rev] of the
// encoder's layer k (and [c_fwd, c_rev] for an LSTM), so no bridge has to be learnt before the decoder
// hears anything of the source, and the gradient reaches the encoder unchanged. The price is that the
// decoder's width is the encoder's times its directions (a bidirectional LSTM 128 feeds an LSTM 256,
// the shape the PyTorch baseline measured).
//
// Parameters (docs/checkpoint-format.md, version 3): encoder.embedding.weight, encoder.rnn.* as
// classify's encoder; decoder.embedding.weight, decoder.rnn.*, decoder.decoder.* as the version 1
// language model over the target vocabulary.
import type { ModelConfig } from './config.js';
import { Encoder } from './encoder.js';
import type { Floats } from './floats.js';
import type { LstmCell } from './lstm.js';
import { Unrolled, type ParamLookup } from './unroll.js';

/** The decoder's own config: the version 1 language model over the target vocabulary, D*H wide. */
export function decoderConfig(cfg: ModelConfig): ModelConfig {
  if (cfg.task !== 'translate') throw new Error(`decoderConfig: task ${cfg.task} is not translate`);
  return { ...cfg, vocabSize: cfg.targetVocabSize!, hidden: cfg.hidden * (cfg.bidirectional ? 2 : 1), bidirectional: false };
}

/** The model's parameters under `prefix`, seen as a model of `config` (a translate model's decoder). */
export function subModel(model: ParamLookup, prefix: string, config: ModelConfig): ParamLookup {
  return { config, arena: model.arena, param: (name) => model.param(prefix + name) };
}

export class TranslatorNet {
  readonly encoder: Encoder;
  readonly decoder: Unrolled;

  constructor(model: ParamLookup, maxBatch: number, maxSource: number, maxTarget: number) {
    this.encoder = new Encoder(model, maxBatch, maxSource, 'encoder.', true);
    this.decoder = new Unrolled(subModel(model, 'decoder.', decoderConfig(model.config)), maxBatch, maxTarget);
  }

  /** Encodes encoder.ids/lengths, starts the decoder from the final states, and decodes decoder.ids over t positions. */
  forward(b: number, t: number): void {
    this.encoder.forward(b);
    this.decoder.setState(this.encoder.finalStates, b, t);
    this.decoder.forward(b, t);
    this.decoder.decode(b, t, 0);
  }

  /**
   * After decoder.lossAndGradient(b, t, 0, scale): backpropagates through the decoder, hands the
   * gradient of its initial state to the encoder's final states, and backpropagates the encoder.
   */
  backward(b: number, t: number, scale: number): void {
    this.decoder.backward(b, t, 0, scale);
    const F = this.decoder.config.hidden;
    const S = this.decoder.stateCount;
    const n = b * F;
    const d = this.encoder.dFinalStates;
    this.decoder.layers.forEach((layer, k) => {
      const cell = layer.cells[0]!;
      for (let s = 0; s < S; s++) {
        // dhInit, and the LSTM's dcInit, hold dL/d(initial state) after the cell's backward pass.
        const from: Floats = s === 0 ? cell.dhInit : (cell as LstmCell).dcInit;
        const at = (k * S + s) * n;
        for (let i = 0; i < n; i++) d[at + i] = from[i]!;
      }
    });
    this.encoder.backward(b);
  }
}
