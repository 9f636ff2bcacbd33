// What the editor remembers of one run's events: the updates whose gradients spiked or were clipped,
// the latest gradient-flow windows, where training stopped on a non-finite loss, and the latest
// metrics, and from them the findings the diagnostics show. No `vscode`: fed with worker events.
import type { ClipEvent, GradientFlow, StepMetrics } from '../../engine/measurements.js';
import type { WorkerEvent } from '../../protocol/messages.js';
import {
  explodingFindings,
  explosionThreshold,
  MAX_EXPLOSIONS,
  MAX_VANISHING_WINDOWS,
  nonFiniteFinding,
  vanishingFinding,
  type Finding,
  type GradientSpike,
  type RunFacts,
} from './diagnosticRules.js';

const RECENT_NORMS = 64;

export class RunWatch {
  /** Largest spikes seen, at most a few times what is shown (a copy: the worker reuses its objects). */
  private spikes: GradientSpike[] = [];
  private flows: GradientFlow[] = [];
  private stopped: { step: number; message: string } | null = null;
  private lastSpans: Array<[number, number]> = [];
  private readonly norms: number[] = [];
  latest: StepMetrics | null = null;
  /** Bumped whenever the findings may have changed. */
  version = 0;

  constructor(public facts: RunFacts) {}

  /** Takes one event; returns true when the findings may have changed. */
  observe(e: WorkerEvent): boolean {
    switch (e.type) {
      case 'metrics':
        for (const m of e.metrics) {
          if (Number.isFinite(m.gradNorm)) this.norms.push(m.gradNorm);
        }
        if (this.norms.length > RECENT_NORMS) this.norms.splice(0, this.norms.length - RECENT_NORMS);
        this.latest = e.metrics.at(-1) ?? this.latest;
        return false;
      case 'clip':
      case 'gradientSpike':
        for (const c of e.type === 'clip' ? e.clips : e.spikes) this.addSpike(c);
        break;
      case 'gradientFlow':
        this.flows = [...this.flows.filter((f) => f.start !== e.flow.start), e.flow].slice(-MAX_VANISHING_WINDOWS);
        break;
      case 'error':
        if (e.kind !== 'nonFinite' || e.step === undefined) return false;
        this.stopped = { step: e.step, message: e.message };
        break;
      default:
        return false;
    }
    this.version++;
    return true;
  }

  private addSpike(c: ClipEvent): void {
    const spike: GradientSpike = { step: c.step, normBefore: c.normBefore, normAfter: c.normAfter, spans: c.spans.map(([a, b]) => [a, b]) };
    if (spike.spans.length) this.lastSpans = spike.spans;
    this.spikes.push(spike);
    if (this.spikes.length > 4 * MAX_EXPLOSIONS) {
      this.spikes.sort((a, b) => b.normBefore - a.normBefore || b.step - a.step);
      this.spikes.length = 2 * MAX_EXPLOSIONS;
    }
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    const finite = this.spikes.filter((s) => Number.isFinite(s.normBefore));
    out.push(...explodingFindings(finite, this.facts, explosionThreshold(this.facts, this.norms)));
    // Once the gradients have exploded or the loss broke, the weights are wrecked: what their gradient
    // flow says about vanishing (and the shorter window it would suggest) is noise, not advice.
    const wrecked = out.length > 0 || this.stopped !== null;
    for (const f of wrecked ? [] : this.flows) {
      const v = vanishingFinding(f, this.facts);
      if (v) out.push(v);
    }
    if (this.stopped) out.push(nonFiniteFinding(this.stopped.step, this.stopped.message, this.lastSpans, this.facts));
    return out;
  }
}
