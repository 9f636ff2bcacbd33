// The dashboard's entry point in the webview: builds the header and the tabbed views, feeds every
// message from the extension through the model, and redraws what changed, throttled to the screen.
import './dashboard.css';
import { DashboardModel, type ViewName } from './model/dashboardModel.js';
import type { ToWebview } from '../src/protocol/messages.js';
import { h } from './dom.js';
import { Host, type TabName } from './vscodeApi.js';
import { readTheme, watchTheme, type Theme } from './theme.js';
import { RedrawScheduler } from './scheduler.js';
import { describeCharts } from './charts.js';
import { HeaderView } from './views/header.js';
import { LossView } from './views/loss.js';
import { ScoresView } from './views/scores.js';
import { GradNormView } from './views/gradNorm.js';
import { SamplesView } from './views/samples.js';
import { GatesView } from './views/gates.js';
import { FlowView } from './views/flow.js';
import { CompareView } from './views/compare.js';
import { ExperimentView } from './views/experiment.js';
import type { View, ViewContext } from './views/view.js';

const TABS: ReadonlyArray<[TabName, string]> = [
  ['loss', 'Loss'],
  ['scores', 'Scores'],
  ['gradNorm', 'Gradient norm'],
  ['samples', 'Samples'],
  ['gates', 'Gates'],
  ['flow', 'Gradient flow'],
  ['compare', 'Compare runs'],
  ['experiment', 'Experiment'],
];

function start(): void {
  const host = new Host();
  const model = new DashboardModel(undefined, (w) => console.warn(w));
  let theme: Theme = readTheme();
  const ctx: ViewContext = { model, host, theme: () => theme, redraw: (v) => scheduler.mark([v]) };

  const header = new HeaderView(ctx);
  const views: Record<TabName, View> = {
    loss: new LossView(ctx),
    scores: new ScoresView(ctx),
    gradNorm: new GradNormView(ctx),
    samples: new SamplesView(ctx),
    gates: new GatesView(ctx),
    flow: new FlowView(ctx),
    compare: new CompareView(ctx),
    experiment: new ExperimentView(ctx),
  };

  const tablist = h('div', { role: 'tablist', 'aria-label': 'Dashboard views', class: 'tabs' });
  const tabs = new Map<TabName, HTMLButtonElement>();
  const panels = new Map<TabName, HTMLElement>();
  for (const [name, label] of TABS) {
    const tab = h('button', { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `panel-${name}`, 'data-tab': name }, label);
    tab.addEventListener('click', () => select(name, true));
    tabs.set(name, tab);
    tablist.append(tab);
    panels.set(
      name,
      h('div', { role: 'tabpanel', id: `panel-${name}`, 'aria-labelledby': `tab-${name}`, class: 'panel' }, views[name].element),
    );
  }
  // The Experiment tab shows only while the run belongs to one (Recurrent: New Experiment...).
  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
  tablist.addEventListener('keydown', (e) => {
    const shown = TABS.filter(([n]) => !tabs.get(n)!.hidden);
    const i = shown.findIndex(([n]) => n === host.ui.tab);
    const next =
      e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? shown.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    select(shown[(next + shown.length) % shown.length]![0], true);
  });

  function select(name: TabName, focus: boolean): void {
    host.update({ tab: name });
    for (const [n, tab] of tabs) {
      const on = n === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      panels.get(n)!.hidden = !on;
    }
    if (focus) tabs.get(name)!.focus();
    scheduler.mark([name]);
  }

  const app = document.getElementById('app') ?? document.body;
  app.replaceChildren(header.element, tablist, ...panels.values());

  const scheduler = new RedrawScheduler(
    () => new Set<ViewName>(['header', host.ui.tab]),
    (dirty) => {
      if (dirty.has('header')) header.render();
      const tab = host.ui.tab;
      if (dirty.has(tab)) views[tab].render();
      document.body.dataset['draws'] = String(scheduler.draws + 1);
    },
  );
  // For the browser test and for debugging from the webview's developer tools.
  (window as unknown as { dashboard: unknown }).dashboard = { model, scheduler, charts: describeCharts };

  /** The Scores tab is for runs that score their examples (a task such as classify); a language model's has none. */
  const showScoresTab = (): void => {
    const on = model.current?.hasScores === true;
    tabs.get('scores')!.hidden = !on;
    if (!on && host.ui.tab === 'scores') select('loss', false);
  };
  let hadExperiment = false;
  window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
    scheduler.mark(model.receive(e.data));
    showScoresTab();
    const has = model.experiment !== null;
    tabs.get('experiment')!.hidden = !has;
    // The first word of an experiment opens its tab; without one, a page left on it falls back to Loss.
    if (has && !hadExperiment && e.data?.type === 'history') select('experiment', false);
    if (!has && host.ui.tab === 'experiment') select('loss', false);
    hadExperiment = has;
    if (model.currentId !== null && model.currentId !== host.ui.runId) host.update({ runId: model.currentId });
  });
  watchTheme(() => {
    theme = readTheme();
    scheduler.mark(['header', 'loss', 'scores', 'gradNorm', 'samples', 'gates', 'flow', 'compare', 'experiment']);
  });
  let resizeTimer: number | undefined;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => scheduler.mark([host.ui.tab]), 150);
  });
  tabs.get('experiment')!.hidden = true;
  select(TABS.some(([n]) => n === host.ui.tab) && host.ui.tab !== 'experiment' ? host.ui.tab : 'loss', false);
  showScoresTab();
  scheduler.mark(['header']);
  host.send({ type: 'ready' });
}

start();
