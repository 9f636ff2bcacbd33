// Redraws follow the screen, not the training: however many messages arrive, views are redrawn at
// most once per `intervalMs` (~10 a second), in an animation frame, and only the visible ones;
// the others stay marked until they are shown.
import type { ViewName } from './model/dashboardModel.js';

export class RedrawScheduler {
  private readonly pending = new Set<ViewName>();
  private timer: number | null = null;
  private lastDraw = -Infinity;
  /** Completed redraws, for tests. */
  draws = 0;

  constructor(
    private readonly visible: () => ReadonlySet<ViewName>,
    private readonly draw: (views: ReadonlySet<ViewName>) => void,
    private readonly intervalMs = 100,
  ) {}

  /** True while a redraw of a visible view is scheduled or owed: tests wait for this to clear. */
  busy(): boolean {
    if (this.timer !== null) return true;
    const shown = this.visible();
    for (const v of this.pending) if (shown.has(v)) return true;
    return false;
  }

  mark(views: Iterable<ViewName>): void {
    for (const v of views) this.pending.add(v);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || this.pending.size === 0) return;
    const wait = Math.max(0, this.lastDraw + this.intervalMs - performance.now());
    this.timer = window.setTimeout(() => {
      requestAnimationFrame(() => {
        this.timer = null;
        this.lastDraw = performance.now();
        const shown = this.visible();
        const now = new Set([...this.pending].filter((v) => shown.has(v)));
        for (const v of now) this.pending.delete(v);
        if (now.size > 0) {
          this.draw(now);
          this.draws++;
        }
      });
    }, wait);
  }
}
