// Import Run: a run continued elsewhere (train.py of Export for PyTorch, under torchrun on a cluster, or
// another machine) comes back as a run of this workspace: loaded paused from its checkpoint, its curve
// drawn whole (the part trained here, then the part trained there: the checkpoint's history), saved
// into the workspace's runs so Load Checkpoint lists it, and ready to sample or to train on here.
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import { describeSegments } from '../../engine/history.js';
import { PYTORCH_CHECKPOINT } from '../../export/pytorchProject.js';
import type { Studio } from '../studio.js';
import { loadFile } from './checkpoints.js';

export async function importRun(studio: Studio, opts: { uri?: vscode.Uri; textUri?: vscode.Uri } = {}): Promise<string | undefined> {
  let uri = opts.uri;
  if (!uri) {
    uri = (
      await vscode.window.showOpenDialog({
        title: 'Import a run: its checkpoint, or the folder Export for PyTorch wrote',
        filters: { Safetensors: ['safetensors'] },
        canSelectFiles: true,
        canSelectFolders: true,
        canSelectMany: false,
        openLabel: 'Import',
      })
    )?.[0];
    if (!uri) return undefined;
  }
  if ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) {
    const inside = vscode.Uri.joinPath(uri, PYTORCH_CHECKPOINT);
    try {
      await vscode.workspace.fs.stat(inside);
    } catch {
      throw new RecurrentError(`${uri.fsPath || uri.toString()} has no ${PYTORCH_CHECKPOINT}: pick the checkpoint train.py saved`);
    }
    uri = inside;
  }
  const runId = await loadFile(studio, uri, opts.textUri, { openDashboard: true });
  if (runId === undefined) return undefined;
  const run = studio.runs.get(runId)!;
  // Into this workspace's runs: listed by Load Checkpoint from now on, like a run trained here.
  const { step } = await run.request('save', studio.store.checkpointPath(runId));
  await studio.settled(); // the record that lists it
  const where = describeSegments(run.description?.segments ?? []);
  void vscode.window.showInformationMessage(
    `Recurrent Studio: imported ${run.label} at update ${step.toLocaleString('en-US')}${where ? `, trained ${where}` : ''}. Resume trains it on here.`,
  );
  return runId;
}
