// The only way out of the webview: VS Code's postMessage, typed so a message outside FromWebview
// cannot be sent, and getState/setState for what the user chose (tab, units, smoothing...), which
// survives the panel being hidden and the window reloading.
import { PROTOCOL_VERSION, type FromWebview } from '../src/protocol/messages.js';
import type { AxisScale, LossUnit } from './model/units.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export type TabName = 'loss' | 'scores' | 'gradNorm' | 'samples' | 'gates' | 'flow' | 'compare' | 'experiment';

export interface UiState {
  /** The run shown last: VS Code hands this state to the panel serializer after a reload. */
  runId?: string;
  tab: TabName;
  unit: LossUnit;
  lossScale: AxisScale;
  gradScale: AxisScale;
  xAxis: 'step' | 'time';
  smoothing: number;
  showRaw: boolean;
  showLr: boolean;
  gatesLayer: number;
  flowNormalised: boolean;
  flowShowOthers: boolean;
  compareHidden: string[];
  temperature: number;
  sampleLength: number;
  prime: string;
  probeText: string;
}

export const DEFAULT_UI: UiState = {
  tab: 'loss',
  unit: 'bits',
  lossScale: 'linear',
  gradScale: 'log',
  xAxis: 'step',
  smoothing: 0.9,
  showRaw: true,
  showLr: true,
  gatesLayer: 0,
  flowNormalised: true,
  flowShowOthers: true,
  compareHidden: [],
  temperature: 0.8,
  sampleLength: 200,
  prime: '',
  probeText: '',
};

export type Outgoing = FromWebview extends infer M ? (M extends { v: number } ? Omit<M, 'v'> : never) : never;

export class Host {
  private readonly api: VsCodeApi;
  readonly ui: UiState;

  constructor() {
    this.api = acquireVsCodeApi();
    const saved = this.api.getState();
    this.ui = { ...DEFAULT_UI, ...(saved !== null && typeof saved === 'object' ? (saved as Partial<UiState>) : {}) };
  }

  send(message: Outgoing): void {
    this.api.postMessage({ ...message, v: PROTOCOL_VERSION });
  }

  update(patch: Partial<UiState>): void {
    Object.assign(this.ui, patch);
    this.api.setState(this.ui);
  }
}
