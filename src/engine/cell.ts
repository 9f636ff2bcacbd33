// What every recurrent cell (rnn.ts, lstm.ts, gru.ts) shares: its four PyTorch parameters, the layout of
// its buffers over a window, the input projection of all steps as one product before the recurrence,
// and the weight gradients as one product after it. A subclass supplies only the recurrence itself,
// step by step, forward and backward.
//
// Layout. A window has t <= maxSteps positions and b <= maxBatch streams; a buffer [T, B, X] holds
// position p, stream r at (p*b + r)*X, packed for the actual b. Hidden states live in `h` [T+1, B, H]
// with the initial state in one extra slot, so that the states a step reads (h_{p-1}) and the states
// it writes (h_p) are both contiguous runs of rows:
//   forward direction: initial state in slot 0, output of position p in slot p+1;
//   reverse direction (runs from the last position to the first): output of position p in slot p,
//   initial state in slot t.
import type { Arena } from './arena.js';
import type { Floats } from './floats.js';
import { addColumnSums, fillRows, fillRowsSum, gatherColumnsAdd, matmulAB, matmulABt, matmulAtB, scatterColumnsAdd } from './backend.js';
import type { Param } from './parameters.js';

export interface CellParams {
  weightIh: Param; // [G*H, In]
  weightHh: Param; // [G*H, H]
  biasIh: Param; // [G*H]
  biasHh: Param; // [G*H]
}

export interface CellShape {
  hidden: number;
  inputSize: number;
  /** Layer 0 without an embedding: the input is token ids, x W_ih^T is a column of W_ih. */
  oneHot: boolean;
  reverse: boolean;
  maxBatch: number;
  maxSteps: number;
}

export abstract class Cell {
  readonly hidden: number;
  readonly gates: number;
  readonly inputSize: number;
  readonly oneHot: boolean;
  readonly reverse: boolean;
  readonly maxBatch: number;
  readonly maxSteps: number;
  /** 1 (h) or 2 (h, c for the LSTM). */
  abstract readonly stateCount: number;
  readonly params: CellParams;
  /** [T+1, B, H] hidden states, laid out as the header says. */
  readonly h: Floats;
  /**
   * [T, B, H] by position. Before backward: dL/dh_p arriving from above (the layer above or the
   * decoder). After: the total dL/dh_p, including what came back through later steps.
   */
  readonly dh: Floats;
  /** [B, H] after backward: dL/dh of the initial state (it is cut from the graph, so this only informs). */
  readonly dhInit: Floats;
  /**
   * [T, B, G*H] gate pre-activations, replaced in place by the activations the backward pass needs;
   * in the LSTM and RNN, backward overwrites them with dIn (so a second backward needs a new forward).
   */
  readonly act: Floats;
  /**
   * [T, B, G*H] dL/d(input-side pre-activation): what W_ih, b_ih and the input receive. The LSTM's and
   * the RNN's step backward reads a position's activations before it writes their gradients, and never
   * again, so their dIn is `act` itself: for W4 (LSTM 512, seq 100, batch 64) that is 52 MB less.
   */
  protected readonly dIn: Floats;
  /** dL/d(hidden-side pre-activation), what W_hh and b_hh receive; the same buffer as dIn except in the GRU. */
  protected dHid: Floats;
  /** Whether b_hh is added with b_ih before the recurrence (RNN, LSTM) or kept apart (GRU's r * (W_hn h + b_hn)). */
  protected abstract readonly biasesTogether: boolean;

  /** [In, G*H] for a one-hot cell: W_ih transposed, or its gradient by token, for the wasm gather/scatter. */
  private readonly oneHotScratch: Floats | null;

  // The input of the last forward pass, read again by backward.
  private x: Floats | null = null;
  private x0 = 0;
  private ids: Int32Array | null = null;

  protected constructor(arena: Arena, params: CellParams, shape: CellShape, gates: number, gradientsOverActivations: boolean) {
    this.hidden = shape.hidden;
    this.gates = gates;
    this.inputSize = shape.inputSize;
    this.oneHot = shape.oneHot;
    this.reverse = shape.reverse;
    this.maxBatch = shape.maxBatch;
    this.maxSteps = shape.maxSteps;
    this.params = params;
    const { hidden: H, maxBatch: B, maxSteps: T } = shape;
    this.h = arena.floats((T + 1) * B * H);
    this.dh = arena.floats(T * B * H);
    this.dhInit = arena.floats(B * H);
    this.act = arena.floats(T * B * gates * H);
    this.dIn = gradientsOverActivations ? this.act : arena.floats(T * B * gates * H);
    this.dHid = this.dIn;
    this.oneHotScratch = shape.oneHot && arena.backend === 'wasm' ? arena.floats(shape.inputSize * gates * H) : null;
  }

  /** Slot in `h` of the output of position p. */
  outSlot(p: number): number {
    return this.reverse ? p : p + 1;
  }

  /** Slot in `h` of the state that position p reads. */
  prevSlot(p: number): number {
    return this.reverse ? p + 1 : p;
  }

  /** Offset in `h` of the outputs as one [t, b, H] run. */
  outputOffset(b: number): number {
    return this.reverse ? 0 : b * this.hidden;
  }

  /** The buffer of state k: 0 is h, 1 is the LSTM's c. */
  protected abstract stateBuffer(k: number): Floats;

  /** Sets state k of the window's initial slot from src[s0 .. s0 + b*H). */
  setState(k: number, src: Floats, s0: number, b: number, t: number): void {
    const n = b * this.hidden;
    const at = (this.reverse ? t : 0) * n;
    const buf = this.stateBuffer(k);
    for (let i = 0; i < n; i++) buf[at + i] = src[s0 + i];
  }

  /** Zeroes state k of the window's initial slot. */
  clearState(k: number, b: number, t: number): void {
    const n = b * this.hidden;
    const at = (this.reverse ? t : 0) * n;
    this.stateBuffer(k).fill(0, at, at + n);
  }

  /** Copies state k after `steps` steps of this direction into dst[d0 .. d0 + b*H). */
  getState(k: number, dst: Floats, d0: number, b: number, t: number, steps: number): void {
    const n = b * this.hidden;
    const at = (this.reverse ? t - steps : steps) * n;
    const buf = this.stateBuffer(k);
    for (let i = 0; i < n; i++) dst[d0 + i] = buf[at + i];
  }

  /**
   * Runs positions 0..t-1 from the initial state set before. The input is x [t, b, In] from x0, or
   * token ids [t, b] for a one-hot cell. Eq.: a_p = x_p W_ih^T + b_ih (+ b_hh) for all p in one product,
   * then the recurrence adds h_{p-1} W_hh^T step by step.
   */
  forward(x: Floats | null, x0: number, ids: Int32Array | null, b: number, t: number): void {
    const GH = this.gates * this.hidden;
    const rows = t * b;
    const { weightIh, biasIh, biasHh } = this.params;
    if (this.biasesTogether) fillRowsSum(this.act, 0, biasIh.data, biasHh.data, rows, GH);
    else fillRows(this.act, 0, biasIh.data, rows, GH);
    if (this.oneHot) {
      gatherColumnsAdd(this.act, 0, ids!, 0, weightIh.data, rows, GH, this.inputSize, this.oneHotScratch);
    } else {
      matmulABt(this.act, 0, x!, x0, weightIh.data, 0, rows, GH, this.inputSize, true);
    }
    this.x = x;
    this.x0 = x0;
    this.ids = ids;
    this.recur(b, t);
  }

  /**
   * Backpropagates through the window whose forward pass ran last, with `dh` filled by the caller.
   * Accumulates into the parameters' grads; writes (or adds, with accumulateDx) dL/dx into dx [t, b, In]
   * from dx0 unless dx is null. The gradient at the window's final state is zero: truncation cuts it.
   */
  backward(dx: Floats | null, dx0: number, accumulateDx: boolean, b: number, t: number): void {
    const H = this.hidden;
    const GH = this.gates * H;
    const rows = t * b;
    this.recurBackward(b, t);
    const { weightIh, weightHh, biasIh, biasHh } = this.params;
    // dW_hh = sum_p dHid_p^T h_{p-1}: the states read are one contiguous run from prevSlot(0) or slot 1.
    const prev0 = (this.reverse ? 1 : 0) * b * H;
    matmulAtB(weightHh.grad, 0, this.dHid, 0, this.h, prev0, rows, GH, H, true);
    addColumnSums(biasHh.grad, this.dHid, 0, rows, GH);
    addColumnSums(biasIh.grad, this.dIn, 0, rows, GH);
    if (this.oneHot) {
      scatterColumnsAdd(weightIh.grad, this.ids!, 0, this.dIn, 0, rows, GH, this.inputSize, this.oneHotScratch);
    } else {
      matmulAtB(weightIh.grad, 0, this.dIn, 0, this.x!, this.x0, rows, GH, this.inputSize, true);
      if (dx !== null) matmulAB(dx, dx0, this.dIn, 0, weightIh.data, 0, rows, GH, this.inputSize, accumulateDx);
    }
  }

  /** The recurrence over positions (in this direction's order), turning `act` into activations. */
  protected abstract recur(b: number, t: number): void;

  /**
   * Walks the positions backwards in this direction's order, filling dIn (and dHid) and adding each
   * step's dL/dh_{p-1} into `dh` of the previous position (or dhInit for the first).
   */
  protected abstract recurBackward(b: number, t: number): void;
}
