// The context keys that show and hide commands in the palette, menus and editor title: whether any run
// has a model (a task model: Predict), trains, is paused or has crashed, and whether the active file's run trains or is paused.
import * as vscode from 'vscode';
import type { Run } from './run.js';

export function setContextKeys(all: readonly Run[], active: Run | undefined): void {
  const keys: Record<string, boolean> = {
    'recurrent.hasModel': all.some((s) => s.alive && s.description !== null),
    'recurrent.hasTaskModel': all.some((s) => s.alive && s.description !== null && s.task !== 'lm'),
    'recurrent.anyRunning': all.some((s) => s.status === 'running'),
    'recurrent.anyPaused': all.some((s) => s.status === 'paused'),
    'recurrent.anyCrashed': all.some((s) => s.status === 'crashed'),
    'recurrent.activeRunning': active?.status === 'running',
    'recurrent.activePaused': active?.status === 'paused',
  };
  for (const [key, value] of Object.entries(keys)) void vscode.commands.executeCommand('setContext', key, value);
}
