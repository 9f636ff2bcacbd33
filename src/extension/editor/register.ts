// The editor features in one call from activation: loss heat, hover, diagnostics with quick fixes and
// the CodeLens, over the extension's runs. Returns what the integration tests look at.
import * as vscode from 'vscode';
import { ModelCodeLens } from './codeLens.js';
import { APPLY_FIX_COMMAND, GradientDiagnostics, type FixArgs } from './diagnostics.js';
import { EditorRuns, type RunList } from './editorRuns.js';
import { ModelHover } from './hover.js';
import { LossHeat, TOGGLE_LOSS_HEAT_COMMAND } from './lossHeat.js';
import { FileHeats } from './fileHeat.js';
import { ProbeCache } from './probeCache.js';
import { TaskLines } from './taskLines.js';

export interface EditorFeatures {
  heat: LossHeat;
  diagnostics: GradientDiagnostics;
  taskLines: TaskLines;
}

/** Files a run can be trained on: saved files and untitled ones. */
const TEXT_FILES: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-userdata' }];

export function registerEditorFeatures(context: vscode.ExtensionContext, list: RunList): EditorFeatures {
  const runs = new EditorRuns(list);
  const cache = new ProbeCache();
  const files = new FileHeats();
  const heat = new LossHeat(runs, cache, files, context.workspaceState);
  const diagnostics = new GradientDiagnostics(runs);
  const lens = new ModelCodeLens(runs, () => heat.enabled);
  const taskLines = new TaskLines(runs);
  context.subscriptions.push(
    runs,
    taskLines,
    vscode.languages.registerInlayHintsProvider(TEXT_FILES, taskLines),
    vscode.languages.registerHoverProvider(TEXT_FILES, taskLines),
    cache,
    files,
    heat,
    diagnostics,
    lens,
    vscode.languages.registerHoverProvider(TEXT_FILES, new ModelHover(runs, cache)),
    vscode.languages.registerCodeActionsProvider(TEXT_FILES, diagnostics, {
      providedCodeActionKinds: GradientDiagnostics.providedCodeActionKinds,
    }),
    vscode.languages.registerCodeLensProvider(TEXT_FILES, lens),
    vscode.commands.registerCommand(TOGGLE_LOSS_HEAT_COMMAND, async (on?: boolean) => {
      await heat.setEnabled(typeof on === 'boolean' ? on : !heat.enabled);
      lens.refresh();
      return heat.enabled;
    }),
    vscode.commands.registerCommand(APPLY_FIX_COMMAND, async (args: FixArgs) => {
      try {
        return await diagnostics.applyFix(args);
      } catch (e) {
        void vscode.window.showErrorMessage(`Recurrent Studio: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }),
  );
  return { heat, diagnostics, taskLines };
}
