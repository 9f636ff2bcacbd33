// Which task a run on a tab-separated file trains when the settings leave it to the file (model.task
// auto): asked once per file with a quick pick, and remembered in the workspace's state, so the next
// Train on the file trains the same task. Setting model.task (or `task` in a .recurrent.json) decides
// without asking.
import * as vscode from 'vscode';
import type { Task } from '../engine/config.js';

const KEY = 'recurrent.taskOfFile';

/** A file of examples, one `input<TAB>output` a line. */
export function isTaskFile(doc: vscode.TextDocument): boolean {
  return /\.tsv$/i.test(doc.uri.path);
}

const CHOICES: ReadonlyArray<vscode.QuickPickItem & { task: Task }> = [
  {
    task: 'classify',
    label: 'Classify',
    description: 'input → label',
    detail: 'Learn the label (second column) of each text (first column).',
  },
  {
    task: 'generate',
    label: 'Generate',
    description: 'label → text',
    detail: 'Learn to write texts (first column) for each label (second column).',
  },
  {
    task: 'translate',
    label: 'Translate',
    description: 'input → output sequence',
    detail: 'Learn to write the output (second column) of each input (first column) with an encoder-decoder.',
  },
  {
    task: 'lm',
    label: 'Language model',
    description: 'the whole file as text',
    detail: 'Learn the next character of the file, tabs and all.',
  },
];

export function rememberedTask(memory: vscode.Memento, doc: vscode.TextDocument): Task | undefined {
  return memory.get<Record<string, Task>>(KEY, {})[doc.uri.toString()];
}

/** The task for `doc`: `given` (automation), the remembered one, or the user's pick (undefined: cancelled). */
export async function chooseTask(memory: vscode.Memento, doc: vscode.TextDocument, given?: Task): Promise<Task | undefined> {
  let task = given ?? rememberedTask(memory, doc);
  if (task === undefined) {
    const name = doc.uri.path.split('/').pop();
    const pick = await vscode.window.showQuickPick(CHOICES, {
      title: `Train on ${name}: which task?`,
      placeHolder: 'Each line is input<TAB>output; the choice is remembered for this file (setting recurrent.model.task decides for all)',
      ignoreFocusOut: true,
    });
    task = pick?.task;
  }
  if (task !== undefined) await memory.update(KEY, { ...memory.get<Record<string, Task>>(KEY, {}), [doc.uri.toString()]: task });
  return task;
}
