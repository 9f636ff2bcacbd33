// What a run is trained on, taken from VS Code: the document (or selection), its settings (user and
// workspace settings, then a `.recurrent.json` beside the file when the workspace is trusted), checked
// before any worker exists.
import * as vscode from 'vscode';
import type { Task } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { parseRunFile, resolveRunSettings, taskSettingOf, type RunSettings, type TaskSetting } from './runSettings.js';
import { checkDocumentKind, checkTrainingText, firstPart } from './textChecks.js';

export interface RunInput {
  document: vscode.TextDocument;
  label: string;
  text: string;
  settings: RunSettings;
}

/** A problem a button can help with: open the settings, or the `.recurrent.json`. */
export class SettingsError extends RecurrentError {
  constructor(
    message: string,
    readonly fix: { settings: true } | { file: vscode.Uri },
  ) {
    super(message);
  }
}

export async function documentToTrain(uri: vscode.Uri | undefined): Promise<vscode.TextDocument> {
  if (uri) {
    checkDocumentKind(uri.scheme, uri.path.split('/').pop() ?? uri.toString());
    return vscode.workspace.openTextDocument(uri);
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    if (vscode.window.activeNotebookEditor) {
      throw new RecurrentError(
        'the active editor is a notebook, not a text file; open a text file (or save the text of a cell to one) and train on that',
      );
    }
    throw new RecurrentError('no text file is open; open the file to train on, then run Recurrent: Train on Current File');
  }
  const doc = editor.document;
  checkDocumentKind(doc.uri.scheme, nameOf(doc));
  return doc;
}

export function nameOf(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : doc.uri.path.split('/').pop() || doc.uri.toString();
}

/**
 * Settings for a run on `doc`; `overrides` (keys under `recurrent.`) come from automation and tests;
 * `task` is the one chosen for a file whose model.task is auto.
 */
export async function settingsFor(doc: vscode.TextDocument, overrides: Record<string, unknown> = {}, task?: Task): Promise<RunSettings> {
  return fromSources(doc, overrides, (get, file) => resolveRunSettings(get, file, undefined, task));
}

/** What model.task says for `doc` (auto: the command asks, for a .tsv file). */
export async function taskSettingFor(doc: vscode.TextDocument, overrides: Record<string, unknown> = {}): Promise<TaskSetting> {
  return fromSources(doc, overrides, taskSettingOf);
}

async function fromSources<T>(
  doc: vscode.TextDocument,
  overrides: Record<string, unknown>,
  read: (get: (key: string) => unknown, file: { path: string; json: unknown } | undefined) => T,
): Promise<T> {
  const config = vscode.workspace.getConfiguration('recurrent', doc.uri);
  // Only what the user set: a setting left alone takes the default of the run's task (runSettings.ts).
  const get = (key: string): unknown => {
    if (key in overrides) return overrides[key];
    const i = config.inspect(key);
    return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
  };
  const runFile = await readRunFile(doc.uri);
  try {
    return read(get, runFile ? { path: runFile.uri.fsPath || runFile.uri.toString(), json: runFile.json } : undefined);
  } catch (e) {
    if (!(e instanceof RecurrentError)) throw e;
    const fromFile = runFile && e.message.startsWith(runFile.uri.fsPath || runFile.uri.toString());
    throw new SettingsError(e.message, fromFile ? { file: runFile.uri } : { settings: true });
  }
}

async function readRunFile(docUri: vscode.Uri): Promise<{ uri: vscode.Uri; json: unknown } | undefined> {
  if (docUri.scheme === 'untitled') return undefined;
  const uri = vscode.Uri.joinPath(docUri, '..', '.recurrent.json');
  let bytes: Uint8Array;
  try {
    bytes = await vscode.workspace.fs.readFile(uri);
  } catch {
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage(
      `Recurrent Studio ignores ${uri.fsPath} because this workspace is not trusted; trust it to use the file's settings.`,
    );
    return undefined;
  }
  const path = uri.fsPath || uri.toString();
  try {
    return { uri, json: parseRunFile(path, new TextDecoder().decode(bytes)) };
  } catch (e) {
    throw new SettingsError((e as Error).message, { file: uri });
  }
}

/**
 * The text of the document or selection, checked; a text over the size limit is offered to be cut to
 * its first part (`acceptFirstPart` answers without asking, for automation).
 */
export async function textToTrain(
  doc: vscode.TextDocument,
  selection: vscode.Selection | undefined,
  settings: RunSettings,
  acceptFirstPart?: boolean,
): Promise<{ text: string; label: string } | undefined> {
  const whole = selection ? doc.getText(selection) : doc.getText();
  const name = selection ? `the selection in ${nameOf(doc)}` : nameOf(doc);
  const verdict = checkTrainingText(whole, name, settings.tokenizer, settings.maxFileSizeMB);
  let text = whole;
  if (verdict.tooLarge) {
    const mb = (whole.length / 1048576).toFixed(1);
    const cut = `Train on the First ${settings.maxFileSizeMB} MB`;
    let take = acceptFirstPart;
    if (take === undefined) {
      const answer = await vscode.window.showWarningMessage(
        `${name} is ${mb} MB, more than the limit of ${settings.maxFileSizeMB} MB (setting recurrent.maxFileSizeMB).`,
        { modal: true },
        cut,
        'Open Settings',
      );
      if (answer === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'recurrent.maxFileSizeMB');
      take = answer === cut;
    }
    if (!take) return undefined;
    text = firstPart(whole, verdict.limitChars);
  }
  const base = nameOf(doc).split('/').pop()!;
  const label = selection
    ? `${base} (lines ${selection.start.line + 1}-${selection.end.line + 1})`
    : text.length < whole.length
      ? `${base} (first ${settings.maxFileSizeMB} MB)`
      : base;
  return { text, label };
}
