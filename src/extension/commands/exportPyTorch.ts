// Export for PyTorch: the run's checkpoint as a .safetensors and, beside it, a .py that defines the
// PyTorch module and loads it (pytorchExport.ts writes the .py).
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import { modelPy } from '../../export/modelPy.js';
import type { Studio } from '../studio.js';
import { saveTo, stem } from './checkpoints.js';

export async function exportPyTorch(studio: Studio, runId?: string, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const s = studio.target(runId, (x) => x.alive && x.description !== null, 'has a model');
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Export ${s.label} for PyTorch`,
      filters: { Safetensors: ['safetensors'] },
      defaultUri: vscode.Uri.joinPath(
        vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(tmpdir()),
        `${stem(s.label)}.safetensors`,
      ),
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
