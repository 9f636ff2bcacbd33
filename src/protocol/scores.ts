// The scores a task reports beside its loss (StepMetrics.scores for an update's examples,
// ValidationMetrics.scores for the held-out ones), by name: how each is titled and which way is better.
// Every score is a share from 0 to 1. A task with scores of its own adds them here, and the dashboard
// charts them with nothing more.
export interface ScoreInfo {
  title: string;
  higherIsBetter: boolean;
}

export const SCORES: Readonly<Record<string, ScoreInfo>> = {
  accuracy: { title: 'accuracy', higherIsBetter: true },
  // translate: a word is wrong unless its output is exactly its target; tokens wrong are edits over the target's length.
  wordErrorRate: { title: 'word error rate', higherIsBetter: false },
  tokenErrorRate: { title: 'token error rate', higherIsBetter: false },
};

/** What the dashboard calls a score, known or not. */
export function scoreInfo(name: string): ScoreInfo {
  return SCORES[name] ?? { title: name, higherIsBetter: true };
}
