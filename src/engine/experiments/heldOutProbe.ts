// What a classifier's run of an experiment measures as it trains: its accuracy and loss on the task file's
// held-out lines (the trainer's own validation), in the form the recall probe reports (recallProbe.ts),
// so that the outcome, the report and the dashboard read both alike. The gradient's reach back to the key
// is the recall probe's alone: fromRecall is empty and keyShare NaN here.
import type { TaskTrainer } from '../taskTrainer.js';
import type { RecallMeasure } from './recallProbe.js';

export function measureHeldOut(t: TaskTrainer): RecallMeasure {
  const v = t.validate();
  if (v.task !== 'classify') throw new Error('the held-out probe measures classifiers');
  return {
    step: t.updates,
    lines: v.examples,
    accuracy: v.accuracy,
    lossNats: v.loss,
    // Bits per example: what the label costs to name.
    lineBits: v.loss / Math.LN2,
    fromRecall: [],
    keyShare: NaN,
  };
}
