// The table of i32 words that describes a model to stepModel (step.ts): where each word is, and the cell
// codes. src/engine/fastStepper.ts writes the table and step.ts reads it, and both import these names:
// plain constants, valid AssemblyScript and TypeScript alike, so the two sides cannot disagree.
// Words hold byte addresses in the engine's memory unless said otherwise.

/** Word CELL's codes. */
export const CELL_RNN = 0;
export const CELL_LSTM = 1;
export const CELL_GRU = 2;

export const CELL = 0;
/** Layers L, hidden size H, vocabulary V: counts. */
export const LAYERS = 1;
export const HIDDEN = 2;
export const VOCABULARY = 3;
/** Embedding table [V, E], 0 for a one-hot input; then E, a count. */
export const EMBEDDING = 4;
export const EMBEDDING_SIZE = 5;
/** Decoder weight [V, H] and bias [V]; the logits [V] are written here. */
export const DECODER_WEIGHT = 6;
export const DECODER_BIAS = 7;
export const LOGITS = 8;
/** Scratch: the gates [G*H], the GRU's hidden side [G*H] (0 otherwise), and [H]. */
export const GATE_SCRATCH = 9;
export const HIDDEN_SIDE_SCRATCH = 10;
export const SCRATCH = 11;
/** State [L, S, H]: per layer h, then (LSTM) c; updated in place. */
export const STATE = 12;
/** Words before the per-layer entries. */
export const HEAD_WORDS = 13;

/** Layer l's entries start at word HEAD_WORDS + LAYER_WORDS * l, in this order. */
export const LAYER_WEIGHT_IH = 0;
export const LAYER_WEIGHT_HH = 1;
export const LAYER_BIAS_IH = 2;
export const LAYER_BIAS_HH = 3;
export const LAYER_WORDS = 4;
