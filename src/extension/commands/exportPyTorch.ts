// Export for PyTorch, model only or with training. Model only: the run's checkpoint as a .safetensors
// and, beside it, a .py that defines the PyTorch module and loads it (export/modelPy.ts). With training:
// a folder that continues the run in PyTorch, as `recurrent export --pytorch` writes it
// (export/pytorchProject.ts): the checkpoint, model.py, train.py and a README with the commands.
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import { modelPy } from '../../export/modelPy.js';
import { PYTORCH_CHECKPOINT, PYTORCH_FILES, PYTORCH_TASKS, pytorchProject } from '../../export/pytorchProject.js';
import type { Run } from '../run.js';
import type { Studio } from '../studio.js';
import { saveTo, stem } from './checkpoints.js';

/**
 * `target` skips the dialogs: a .safetensors file (model only) or a folder (with training); `training`
 * says which when the target does not. Returns the .py written, or the folder's README.md.
 */
export async function exportPyTorch(
  studio: Studio,
  runId?: string,
  target?: vscode.Uri,
  training?: boolean,
): Promise<vscode.Uri | undefined> {
  const s = studio.target(runId, (x) => x.alive && x.description !== null, 'has a model');
  const withTraining = training ?? (target ? !target.path.endsWith('.safetensors') : await askTraining(s));
  if (withTraining === undefined) return undefined;
  const task = s.description!.model.task;
  if (withTraining && !PYTORCH_TASKS.includes(task))
    throw new RecurrentError(
      `${s.label} is a ${task} model: train.py continues ${PYTORCH_TASKS.join(', ')} runs so far; export the model only`,
    );
  return withTraining ? exportProject(s, target) : exportModel(s, target);
}

async function askTraining(s: Run): Promise<boolean | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: '$(file-code) Model', description: 'a .safetensors and the .py that loads it into PyTorch', training: false },
      {
        label: '$(server-process) Model and training',
        description: `a folder with train.py that continues this run in PyTorch: GPUs, torchrun, many machines`,
        training: true,
      },
    ],
    { title: `Export ${s.label} for PyTorch`, placeHolder: 'Include training?' },
  );
  return pick?.training;
}

function workspaceOr(name: string): vscode.Uri {
  return vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(tmpdir()), name);
}

async function exportModel(s: Run, target: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Export ${s.label} for PyTorch`,
      filters: { Safetensors: ['safetensors'] },
      defaultUri: workspaceOr(`${stem(s.label)}.safetensors`),
    }));
  if (!uri) return undefined;
  await saveTo(s, uri);
  const name = uri.path.split('/').pop()!;
  const py = vscode.Uri.joinPath(uri, '..', name.replace(/\.safetensors$/, '') + '.py');
  const run = s.description!;
  await vscode.workspace.fs.writeFile(py, new TextEncoder().encode(modelPy(run.model, run.tokenizer, name)));
  if (!target) await vscode.window.showTextDocument(py);
  return py;
}

async function exportProject(s: Run, target: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const folder =
    target ??
    (
      await vscode.window.showOpenDialog({
        title: `A folder for ${s.label}'s PyTorch training (model.safetensors, model.py, train.py, README.md)`,
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        openLabel: 'Export here',
        defaultUri: workspaceOr(''),
      })
    )?.[0];
  if (!folder) return undefined;
  const names = [PYTORCH_CHECKPOINT, ...PYTORCH_FILES];
  const present: string[] = [];
  for (const n of names) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, n));
      present.push(n);
    } catch {
      // not there: nothing to replace
    }
  }
  if (present.length && !target) {
    const replace = await vscode.window.showWarningMessage(
      `${folder.fsPath || folder.toString()} already has ${present.join(', ')}. Replace them? A ${PYTORCH_CHECKPOINT} there may hold training done in PyTorch since an earlier export.`,
      { modal: true },
      'Replace',
    );
    if (replace !== 'Replace') return undefined;
  }
  await vscode.workspace.fs.createDirectory(folder);
  const updates = await saveTo(s, vscode.Uri.joinPath(folder, PYTORCH_CHECKPOINT));
  const run = s.description!;
  const files = pytorchProject({
    config: run.model,
    tokenizer: run.tokenizer,
    train: run.train,
    updates,
    textName: vscode.Uri.parse(s.file).path.split('/').pop() ?? 'TEXT',
  });
  for (const name of PYTORCH_FILES)
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, name), new TextEncoder().encode(files[name]));
  const readme = vscode.Uri.joinPath(folder, 'README.md');
  if (!target) {
    await vscode.window.showTextDocument(readme);
    void vscode.window.showInformationMessage(
      `Recurrent Studio: exported ${s.label} with train.py to ${folder.fsPath || folder.toString()}. README.md there has the commands; Recurrent: Import Run... brings the run back.`,
    );
  }
  return readme;
}
