// Recurrent: New Experiment...: picks an experiment and its size, writes its data files into the
// workspace (experiments/NAME/, or a folder the user picks when no folder is open), trains its runs one
// after another with the dashboard following them, and ends with the verdict, in a notification and in
// the dashboard's Experiment view.
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import { EXPERIMENTS, experiment, type ExperimentDefinition } from '../../engine/experiments/registry.js';
import type { ExperimentReport } from '../../engine/experiments/report.js';
import { ExperimentSession, writeExperimentFiles } from '../experimentSession.js';
import type { Studio } from '../studio.js';

/** What automation and tests pass instead of answering the pickers. */
export interface ExperimentOptions {
  name?: string;
  quick?: boolean;
  seeds?: number[];
  /** Where the data files go; default experiments/NAME in the first workspace folder. */
  folder?: vscode.Uri;
  openDashboard?: boolean;
}

/** The experiment training now: one at a time, since each already keeps the machine busy. */
let running: ExperimentSession | null = null;

export async function newExperiment(studio: Studio, o: ExperimentOptions = {}): Promise<ExperimentReport | undefined> {
  if (running !== null)
    throw new RecurrentError(
      `the experiment “${running.report().title}” is still running; wait for it, or cancel it from its notification`,
    );
  const def = o.name !== undefined ? experiment(o.name) : await pickExperiment();
  if (def === undefined) return undefined;
  const quick = o.quick ?? (await pickSize(def));
  if (quick === undefined) return undefined;
  const folder = o.folder ?? (await pickFolder(def));
  if (folder === undefined) return undefined;
  const plan = def.plan({ quick, seeds: o.seeds ?? [1] });
  await writeExperimentFiles(plan, folder);
  const session = new ExperimentSession(studio, def, plan, folder);
  running = session;
  let report: ExperimentReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Experiment: ${plan.title}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => session.cancel());
        const total = plan.runs.length;
        return session.run({
          openDashboard: o.openDashboard ?? true,
          onRun: (entry, i) => progress.report({ message: `run ${i + 1} of ${total}: ${entry.label}`, increment: 100 / total }),
        });
      },
    );
  } finally {
    running = null;
  }
  const v = report.verdict;
  if (v === null) {
    void vscode.window.showWarningMessage(`Recurrent Studio: the experiment “${plan.title}” was cancelled; no verdict.`);
  } else {
    const words = {
      agrees: 'agrees with the theory',
      partly: 'partly agrees with the theory',
      disagrees: 'disagrees with the theory',
      inconclusive: 'is inconclusive',
    };
    void vscode.window
      .showInformationMessage(`Recurrent Studio: ${plan.title} ${words[v.agreement]}. ${v.summary}`, 'Open Dashboard')
      .then((a) => {
        const last = [...report.runs].reverse().find((r) => r.runId !== null && studio.runs.get(r.runId));
        if (a === 'Open Dashboard' && last) void vscode.commands.executeCommand('recurrent.openDashboard', last.runId);
      });
  }
  return report;
}

async function pickExperiment(): Promise<ExperimentDefinition | undefined> {
  const picked = await vscode.window.showQuickPick(
    EXPERIMENTS.map((e, i) => ({ label: `${i + 1}. ${e.title}`, detail: e.description, def: e })),
    { title: 'New Experiment', placeHolder: 'Which claim of the theory to put to the test' },
  );
  return picked?.def;
}

async function pickSize(def: ExperimentDefinition): Promise<boolean | undefined> {
  const full = def.plan({ quick: false, seeds: [1] });
  const quick = def.plan({ quick: true, seeds: [1] });
  const updates = (p: typeof full): string => p.runs.reduce((n, r) => n + r.steps, 0).toLocaleString('en-US');
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Full', detail: `${full.runs.length} runs, ${updates(full)} updates in all: a few minutes on two idle cores`, quick: false },
      {
        label: 'Quick',
        detail: `${quick.runs.length} small runs, ${updates(quick)} updates: a first look in seconds, too short to learn much`,
        quick: true,
      },
    ],
    { title: `New Experiment: ${def.title}`, placeHolder: 'How large' },
  );
  return picked?.quick;
}

async function pickFolder(def: ExperimentDefinition): Promise<vscode.Uri | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (root !== undefined) return vscode.Uri.joinPath(root, 'experiments', def.name);
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Write the Experiment Here',
    title: `Where to write the data files of “${def.title}”`,
  });
  return picked?.[0];
}
