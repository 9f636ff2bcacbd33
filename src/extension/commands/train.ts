// Train on Current File, Train on Selection (offering to resume a saved run of the same text, or to
// replace a run that still trains on the file), and Open a Sample Text.
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import { textHash } from '../checkpointStore.js';
import { launch, newRunId, resumeSaved } from '../launch.js';
import type { Task } from '../../engine/config.js';
import { documentToTrain, settingsFor, taskSettingFor, textToTrain } from '../runInput.js';
import type { Studio } from '../studio.js';
import { chooseTask, isTaskFile } from '../taskChoice.js';

/** Options a command accepts from automation and tests instead of asking. */
export interface TrainOptions {
  uri?: vscode.Uri;
  /** Settings under `recurrent.` that replace the user's for this run. */
  overrides?: Record<string, unknown>;
  /** Start a new run even if a checkpoint of this file exists (true), or resume it (false); undefined = ask. */
  fresh?: boolean;
  acceptFirstPart?: boolean;
  openDashboard?: boolean;
  /** The answer to "which task?" for a .tsv file whose settings leave it to the file (remembered like one). */
  task?: Task;
}

export async function train(studio: Studio, selectionOnly: boolean, opts: TrainOptions = {}): Promise<string | undefined> {
  const doc = await documentToTrain(opts.uri);
  let task: Task | undefined;
  if (isTaskFile(doc) && (await taskSettingFor(doc, opts.overrides)) === 'auto') {
    task = await chooseTask(studio.context.workspaceState, doc, opts.task);
    if (task === undefined) return undefined;
  }
  const settings = await settingsFor(doc, opts.overrides, task);
  const editor = vscode.window.activeTextEditor;
  let selection: vscode.Selection | undefined;
  if (selectionOnly) {
    if (!editor || editor.document !== doc || editor.selection.isEmpty)
      throw new RecurrentError('nothing is selected; select the text to train on, or use Recurrent: Train on Current File');
    selection = editor.selection;
  }
  const input = await textToTrain(doc, selection, settings, opts.acceptFirstPart);
  if (!input) return undefined;
  const file = doc.uri.toString();

  const current = studio.runs.forFile(file);
  if (current && (current.status === 'running' || current.status === 'paused' || current.status === 'starting')) {
    const replace = 'Stop It and Start Over';
    const answer = opts.fresh
      ? replace
      : await vscode.window.showWarningMessage(`A run on ${current.label} is ${current.status}.`, { modal: true }, replace);
    if (answer !== replace) return undefined;
    await studio.runs.remove(current);
  }

  if (!selection && opts.fresh !== true) {
    const saved = (await studio.store.list()).find(
      (r) => r.file === file && r.textSha256 === textHash(input.text) && (r.run?.model.task ?? 'lm') === settings.model.task,
    );
    if (saved) {
      const resume = `Resume from Update ${saved.step}`;
      const answer =
        opts.fresh === false
          ? resume
          : await vscode.window.showInformationMessage(
              `${input.label} has a checkpoint at update ${saved.step} (${new Date(saved.savedAt).toLocaleString()}).`,
              { modal: true },
              resume,
              'Start Over',
            );
      if (answer === undefined) return undefined;
      if (answer === resume) return resumeSaved(studio, saved, input.text, false, settings);
    }
  }
  return launch(studio, { runId: newRunId(), label: input.label, file, text: input.text, settings, openDashboard: opts.openDashboard });
}

export async function openSampleText(studio: Studio): Promise<void> {
  const uri = vscode.Uri.joinPath(studio.context.extensionUri, 'media', 'walkthrough', 'sotu-1994.txt');
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  // An untitled copy: the user can train on it, edit it, and save it where they like.
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(doc);
}
