// The dashboard panel: one webview panel that shows a training run (and earlier runs on the same
// file), opened by a command or revived by VS Code after a reload. It serves the bundled dashboard
// under a strict content security policy, checks every message the webview sends before the run
// sees it, and forwards the run's events a few times a second.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { FromWebview, RunHistory, ToWebview, WorkerEvent } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { parseFromWebview } from '../protocol/webviewMessages.js';
import { dashboardHtml } from './dashboardHtml.js';
import { coalesce } from './eventCoalescer.js';
import type { ExperimentFeed } from './run.js';

/** What the panel needs of a training run (implemented by run.ts's Run). */
export interface DashboardSource {
  readonly runId: string;
  history(): RunHistory; // the whole history so far (the dashboard may open late)
  others(): RunHistory[]; // earlier runs on the same file, for Compare runs
  onEvent(listener: (runId: string, event: WorkerEvent) => void): { dispose(): void };
  handle(message: FromWebview): void; // already validated
  readonly experiment?: ExperimentFeed | null; // the experiment the run belongs to, for the Experiment view
}

/** Events are sent to the webview at most this often. */
export const FLUSH_INTERVAL_MS = 250;

export class DashboardPanel {
  static readonly viewType = 'recurrent.dashboard';
  private static current: DashboardPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private subscription: { dispose(): void } | undefined;
  private experimentSubscription: { dispose(): void } | undefined;
  private buffer: Array<{ runId: string; event: WorkerEvent }> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;

  /** The options a dashboard webview needs; also for a serializer's revived panel. */
  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  /** Shows the dashboard for `source`, reusing the open panel (which then follows this run). */
  static createOrShow(extensionUri: vscode.Uri, source: DashboardSource): DashboardPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    const open = DashboardPanel.current;
    if (open !== undefined) {
      open.panel.reveal(column);
      if (open.source.runId !== source.runId) open.bind(source);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      'Recurrent dashboard',
      column,
      DashboardPanel.webviewOptions(extensionUri),
    );
    return new DashboardPanel(panel, extensionUri, source);
  }

  /** Moves the open panel to `source` if it shows a run of the same experiment, without revealing it. */
  static follow(experiment: ExperimentFeed, source: DashboardSource): void {
    const open = DashboardPanel.current;
    if (open !== undefined && open.source.experiment === experiment && open.source.runId !== source.runId) open.bind(source);
  }

  /** For a WebviewPanelSerializer: VS Code restored `panel` after a reload; show `source` in it. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, source: DashboardSource): DashboardPanel {
    DashboardPanel.current?.dispose();
    panel.webview.options = DashboardPanel.webviewOptions(extensionUri);
    return new DashboardPanel(panel, extensionUri, source);
  }

  /** The run the open dashboard shows once its page has loaded and asked for the history, if any (for the tests). */
  static showing(): string | undefined {
    const open = DashboardPanel.current;
    return open?.ready ? open.source.runId : undefined;
  }

  /** The open panel, if it shows a run of `source`'s id, follows `source` instead (the same run, loaded again). */
  static followReloaded(source: DashboardSource): void {
    const open = DashboardPanel.current;
    if (open !== undefined && open.source.runId === source.runId && open.source !== source) open.bind(source);
  }

  /** The runId the webview last showed, from the state VS Code hands a serializer; undefined if none. */
  static runIdFromState(state: unknown): string | undefined {
    const id = state !== null && typeof state === 'object' ? (state as { runId?: unknown }).runId : undefined;
    return typeof id === 'string' ? id : undefined;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private source: DashboardSource,
  ) {
    DashboardPanel.current = this;
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      // Hidden webviews are torn down; when shown again the page reloads and asks for the history.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) {
          this.ready = false;
          this.buffer = [];
        }
      }),
    );
    this.bind(source);
  }

  private bind(source: DashboardSource): void {
    this.subscription?.dispose();
    this.experimentSubscription?.dispose();
    this.source = source;
    this.buffer = [];
    const x = source.experiment ?? null;
    this.panel.title = x ? `Recurrent: ${x.report().title}` : `Recurrent: ${source.history().label}`;
    this.subscription = source.onEvent((runId, event) => this.enqueue(runId, event));
    this.experimentSubscription = x?.onChange(() => {
      if (this.ready) this.post({ v: PROTOCOL_VERSION, type: 'experiment', report: x.report() });
    });
    if (this.ready) this.sendHistory();
  }

  private html(): string {
    const webview = this.panel.webview;
    const asUri = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    return dashboardHtml({
      scriptUri: asUri('dist', 'webview.js'),
      styleUri: asUri('dist', 'webview.css'),
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
    });
  }

  private receive(raw: unknown): void {
    const message = parseFromWebview(raw, (w) => console.warn(`Recurrent dashboard: ${w}`));
    if (message === undefined) return;
    if (message.type === 'ready') {
      this.ready = true;
      this.sendHistory();
      return;
    }
    try {
      this.source.handle(message);
    } catch (e) {
      console.warn(`Recurrent dashboard: ${message.type} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private sendHistory(): void {
    this.buffer = [];
    this.post({
      v: PROTOCOL_VERSION,
      type: 'history',
      current: this.source.history(),
      others: this.source.others(),
      experiment: this.source.experiment?.report() ?? null,
    });
  }

  private enqueue(runId: string, event: WorkerEvent): void {
    if (!this.ready) return; // the history sent on 'ready' will include it
    this.buffer.push({ runId, event });
    this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const pending = this.buffer;
    this.buffer = [];
    const byRun = new Map<string, WorkerEvent[]>();
    for (const { runId, event } of pending) {
      const list = byRun.get(runId) ?? [];
      list.push(event);
      byRun.set(runId, list);
    }
    for (const [runId, events] of byRun) {
      for (const event of coalesce(events)) this.post({ v: PROTOCOL_VERSION, type: 'event', runId, event });
    }
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.subscription?.dispose();
    this.subscription = undefined;
    this.experimentSubscription?.dispose();
    this.experimentSubscription = undefined;
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}
