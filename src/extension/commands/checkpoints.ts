// Save Checkpoint (a .safetensors anywhere, through the editor's file system when it is not local) and
// Load Checkpoint (an autosaved run of this workspace, or any file, loaded paused).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import type { SavedRun } from '../checkpointStore.js';
import { launch, newRunId, resumeSaved } from '../launch.js';
import type { Run } from '../run.js';
import { settingsFor, textToTrain } from '../runInput.js';
import type { Studio } from '../studio.js';

export async function saveCheckpoint(studio: Studio, runId?: string, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const s = studio.target(runId, (x) => x.alive && x.description !== null, 'has a model');
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Save the checkpoint of ${s.label}`,
      filters: { Safetensors: ['safetensors'] },
      defaultUri: vscode.Uri.joinPath(
        vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(tmpdir()),
        `${stem(s.label)}-${s.latest?.step ?? 0}.safetensors`,
      ),
    }));
  if (!uri) return undefined;
  await saveTo(s, uri);
  if (!target)
    void vscode.window.showInformationMessage(
      `Recurrent Studio: saved ${s.label} at update ${s.latest?.step ?? 0} to ${uri.fsPath || uri.toString()}.`,
    );
  return uri;
}

/**
 * The worker writes local files directly; other file systems get the bytes through workspace.fs.
 * Resolves with the update the checkpoint holds.
 */
export async function saveTo(s: Run, uri: vscode.Uri): Promise<number> {
  if (uri.scheme === 'file') return (await s.request('save', uri.fsPath)).step;
  const dir = await mkdtemp(join(tmpdir(), 'recurrent-'));
  try {
    const path = join(dir, 'checkpoint.safetensors');
    const { step } = await s.request('save', path);
    await vscode.workspace.fs.writeFile(uri, await readFile(path));
    return step;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Lists the autosaved runs (and "Browse..."); the chosen checkpoint is loaded paused, ready to sample
 * or to resume training exactly where it stopped.
 */
export async function loadCheckpoint(
  studio: Studio,
  opts: { runId?: string; uri?: vscode.Uri; textUri?: vscode.Uri } = {},
): Promise<string | undefined> {
  const saved = await studio.store.list();
  if (opts.runId) {
    const r = saved.find((x) => x.runId === opts.runId);
    if (!r) throw new RecurrentError(`no saved checkpoint for run ${opts.runId}`);
    return resumeSaved(studio, r, undefined, true);
  }
  let uri = opts.uri;
  if (!uri) {
    type Item = vscode.QuickPickItem & { run?: SavedRun };
    const items: Item[] = saved.map((r) => ({
      label: r.label,
      run: r,
      description: `update ${r.step}${r.run ? ` · ${r.run.model.cell} ${r.run.model.hidden}x${r.run.model.layers}` : ''}`,
      detail: `${new Date(r.savedAt).toLocaleString()} · ${vscode.Uri.parse(r.file).fsPath || r.file}`,
    }));
    items.push({ label: '$(folder-opened) Browse...', description: 'a .safetensors file anywhere' });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Load a checkpoint',
      placeHolder: saved.length ? 'Runs saved in this workspace, newest first' : 'No runs saved in this workspace yet',
    });
    if (!pick) return undefined;
    if (pick.run) return resumeSaved(studio, pick.run, undefined, true);
    uri = (
      await vscode.window.showOpenDialog({ title: 'Load a checkpoint', filters: { Safetensors: ['safetensors'] }, canSelectMany: false })
    )?.[0];
    if (!uri) return undefined;
  }
  return loadFile(studio, uri, opts.textUri, { openDashboard: false });
}

/**
 * Loads a checkpoint from anywhere, paused, as a new run on a text the user names (`textUri`, else the
 * active file, else one picked now); undefined when the user backs out.
 */
export async function loadFile(
  studio: Studio,
  uri: vscode.Uri,
  textUri: vscode.Uri | undefined,
  opts: { openDashboard: boolean },
): Promise<string | undefined> {
  let text = textUri ?? vscode.window.activeTextEditor?.document.uri;
  if (!text) {
    text = (await vscode.window.showOpenDialog({ title: 'The text to continue training on', canSelectMany: false }))?.[0];
    if (!text) return undefined;
  }
  const doc = await vscode.workspace.openTextDocument(text);
  const settings = await settingsFor(doc);
  const input = await textToTrain(doc, undefined, settings);
  if (!input) return undefined;
  let local = uri.fsPath;
  if (uri.scheme !== 'file') {
    await studio.store.ensure();
    local = join(studio.store.dir, `import-${newRunId()}.safetensors`);
    await writeFile(local, await vscode.workspace.fs.readFile(uri));
  }
  return launch(studio, {
    runId: newRunId(),
    label: `${input.label} (${uri.path.split('/').pop()})`,
    file: doc.uri.toString(),
    text: input.text,
    settings,
    resumeFrom: local,
    paused: true,
    openDashboard: opts.openDashboard,
  });
}

/** A file name for a run's checkpoint, from its label. */
export function stem(label: string): string {
  return (
    label
      .replace(/\.[^.]*$/, '')
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-|-$/g, '') || 'model'
  );
}
