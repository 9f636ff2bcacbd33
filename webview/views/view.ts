// What every dashboard view gets: the model to draw, the user's choices, the theme, the way out to
// the extension, and a way to ask for its own redraw after a control changed.
import type { DashboardModel, ViewName } from '../model/dashboardModel.js';
import type { Bucket, DecimatedSeries } from '../model/series.js';
import type { Host } from '../vscodeApi.js';
import type { Theme } from '../theme.js';
import type { Pt } from '../charts.js';

export interface ViewContext {
  model: DashboardModel;
  host: Host;
  theme: () => Theme;
  redraw: (view: ViewName) => void;
}

export interface View {
  readonly element: HTMLElement;
  render(): void;
}

/** x of a bucket on the chosen axis: its last step, or its last elapsed time in seconds. */
export function bucketX(b: Bucket, axis: 'step' | 'time'): number {
  return axis === 'step' ? b.lastStep : b.lastMs / 1000;
}

/** Points of a series through `y` (NaN makes a gap). */
export function points(series: DecimatedSeries, axis: 'step' | 'time', y: (b: Bucket, i: number) => number): Pt[] {
  const all = series.all();
  const out: Pt[] = new Array(all.length);
  for (let i = 0; i < all.length; i++) {
    const v = y(all[i]!, i);
    out[i] = { x: bucketX(all[i]!, axis), y: Number.isFinite(v) ? v : NaN };
  }
  return out;
}

/** The steps a bucket covers, as hover text: "step 1200" or "steps 1201–1456 (256 updates)". */
export function bucketSpan(b: Bucket): string {
  return b.count === 1 ? `step ${b.lastStep}` : `steps ${b.firstStep}–${b.lastStep} (${b.count} updates)`;
}
