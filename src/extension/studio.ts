// The commands of the extension and the state they share: the runs of this window, the checkpoint
// store, the status bar and the context keys that show and hide commands. Every training step, sample
// and probe runs in a run's worker; this file only moves text, settings and events around.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RecurrentError } from '../engine/errors.js';
import type { RunHistory, WorkerEvent } from '../protocol/messages.js';
import { CheckpointStore, textHash, type SavedRun } from './checkpointStore.js';
import { DashboardPanel } from './dashboardPanel.js';
import { nodeWorkerFactory } from './nodeWorker.js';
import { pytorchLoader } from './pytorchExport.js';
import { documentToTrain, SettingsError, settingsFor, textToTrain } from './runInput.js';
import type { RunSettings } from './runSettings.js';
import { Run, type StartSettings } from './run.js';
import { Runs } from './runs.js';
import { RunStatusBar } from './statusBar.js';

/** Options a command accepts from automation and tests instead of asking. */
export interface TrainOptions {
  uri?: vscode.Uri;
  /** Settings under `recurrent.` that replace the user's for this run. */
  overrides?: Record<string, unknown>;
  /** Start a new run even if a checkpoint of this file exists (true), or resume it (false); undefined = ask. */
  fresh?: boolean;
  acceptFirstPart?: boolean;
  openDashboard?: boolean;
}

export interface SampleOptions {
  runId?: string;
  prime?: string;
  length?: number;
  temperature?: number;
  seed?: number;
  /** Stream into a new editor (default true). */
  editor?: boolean;
}

const DASHBOARD_SAMPLE_LENGTH = 200;

export class Studio implements vscode.Disposable {
  readonly runs = new Runs();
  readonly store: CheckpointStore;
  private readonly status = new RunStatusBar();
  private readonly log: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  /** Checkpoint records being written; shutdown() waits for them. */
  private readonly pendingRecords = new Set<Promise<void>>();

  constructor(private readonly context: vscode.ExtensionContext) {
    const storage = context.storageUri ?? context.globalStorageUri;
    this.store = new CheckpointStore(join(storage.fsPath, 'checkpoints'));
    this.log = vscode.window.createOutputChannel('Recurrent Studio', { log: true });
    this.disposables.push(
      this.log,
      this.status,
      this.runs.onChange(() => this.refresh()),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
    );
    this.refresh();
  }

  // ---- training ------------------------------------------------------------------------------

  async train(selectionOnly: boolean, opts: TrainOptions = {}): Promise<string | undefined> {
    const doc = await documentToTrain(opts.uri);
    const settings = await settingsFor(doc, opts.overrides);
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

    const current = this.runs.forFile(file);
    if (current && (current.status === 'running' || current.status === 'paused' || current.status === 'starting')) {
      const replace = 'Stop It and Start Over';
      const answer = opts.fresh
        ? replace
        : await vscode.window.showWarningMessage(`A run on ${current.label} is ${current.status}.`, { modal: true }, replace);
      if (answer !== replace) return undefined;
      await this.runs.remove(current);
    }

    if (!selection && opts.fresh !== true) {
      const saved = (await this.store.list()).find((r) => r.file === file && r.textSha256 === textHash(input.text));
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
        if (answer === resume) return this.resumeSaved(saved, input.text, false, settings);
      }
    }
    return this.launch({ runId: newRunId(), label: input.label, file, text: input.text, settings, openDashboard: opts.openDashboard });
  }

  /** Starts a run and follows it: progress notification, status bar, autosave records, crash report. */
  private async launch(r: {
    runId: string;
    label: string;
    file: string;
    text: string;
    settings: RunSettings;
    resumeFrom?: string;
    paused?: boolean;
    openDashboard?: boolean | undefined;
  }): Promise<string> {
    await this.store.ensure();
    const s = r.settings;
    const start: StartSettings = {
      model: s.model,
      train: s.train,
      tokenizer: s.tokenizer,
      maxVocab: s.maxVocab,
      maxSteps: s.maxSteps,
      maxMs: s.maxMs,
      autosavePath: this.store.checkpointPath(r.runId),
      autosaveEveryMs: s.autosaveEveryMs,
      sampleEveryMs: s.sampling.everyMs,
      sampleLength: Math.min(DASHBOARD_SAMPLE_LENGTH, s.sampling.length),
      temperature: s.sampling.temperature,
      ...(r.paused ? { paused: true } : {}),
    };
    const sha = textHash(r.text);
    const run = new Run({
      runId: r.runId,
      label: r.label,
      file: r.file,
      text: r.text,
      start,
      ...(r.resumeFrom ? { resumeFrom: r.resumeFrom } : {}),
      workers: nodeWorkerFactory(this.context.asAbsolutePath('dist/worker.cjs'), s.workerMemoryMB),
      warn: (m) => this.log.warn(m),
      others: () => this.runs.othersThan(r.runId),
    });
    run.onEvent((_id, e) => this.observe(run, e, sha));
    this.runs.add(run);
    try {
      await run.started();
    } catch (e) {
      await this.runs.remove(run);
      throw e;
    }
    this.refresh();
    if (!r.paused) this.showProgress(run);
    if (r.openDashboard ?? vscode.workspace.getConfiguration('recurrent').get<boolean>('openDashboardOnStart', true))
      this.openDashboard(run.runId);
    return run.runId;
  }

  private observe(s: Run, e: WorkerEvent, sha: string): void {
    if (e.type === 'metrics' || e.type === 'state' || e.type === 'error' || e.type === 'started') this.refreshSoon();
    if (e.type === 'checkpointSaved' && e.path === this.store.checkpointPath(s.runId)) {
      const record: SavedRun = {
        runId: s.runId,
        label: s.label,
        file: s.file,
        textSha256: sha,
        textLength: s.text.length,
        step: e.step,
        savedAt: new Date().toISOString(),
        run: s.description,
      };
      const written = this.store.record(record).catch((err) => this.log.error(`could not record checkpoint ${e.path}: ${err}`));
      // shutdown() waits for these: a checkpoint without its record is not listed for loading.
      this.pendingRecords.add(written);
      void written.finally(() => this.pendingRecords.delete(written));
    }
    if (e.type === 'error' && e.inReplyTo === undefined) {
      if (s.status === 'crashed') {
        this.log.error(`${s.label}: ${e.message}`);
        void vscode.window
          .showErrorMessage(`Recurrent Studio: training on ${s.label} stopped: ${s.problem}.`, 'Restart from Last Checkpoint', 'Show Log')
          .then((a) => {
            if (a === 'Restart from Last Checkpoint') void this.restart(s.runId).catch((err) => this.report(err));
            if (a === 'Show Log') this.log.show();
          });
      } else if (e.kind === 'nonFinite') {
        void vscode.window.showWarningMessage(`Recurrent Studio: ${s.label}: ${e.message}.`);
      } else if (s.status !== 'failed') {
        this.log.error(`${s.label}: ${e.message}`);
        void vscode.window.showErrorMessage(`Recurrent Studio: ${s.label}: ${e.message}`);
      }
    }
    if (e.type === 'finished' && e.reason !== 'stopped' && e.reason !== 'nonFinite') {
      const m = s.latest;
      void vscode.window
        .showInformationMessage(
          `Recurrent Studio: ${s.label} finished at update ${e.step}${m ? `, ${m.bitsPerToken.toFixed(3)} bits per token` : ''}; its checkpoint is saved.`,
          'Sample',
        )
        .then((a) => {
          if (a === 'Sample') void vscode.commands.executeCommand('recurrent.sample', { runId: s.runId });
        });
    }
  }

  /** A notification while the run trains; cancelling it stops the run (its checkpoint is saved). */
  private showProgress(s: Run): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training on ${s.label}`, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          const maxSteps = s.settings.maxSteps;
          const base = s.latest?.step ?? 0;
          let reported = 0;
          const sub = s.onEvent((_id, e) => {
            if (e.type === 'metrics') {
              const m = e.metrics.at(-1)!;
              const done = maxSteps ? Math.min(100, (100 * (m.step - base)) / maxSteps) : 0;
              progress.report({
                message: `update ${m.step}: ${m.bitsPerToken.toFixed(3)} bits/token`,
                ...(maxSteps ? { increment: Math.max(0, done - reported) } : {}),
              });
              reported = Math.max(reported, done);
            }
            if (e.type === 'state' && e.state !== 'running') finish();
          });
          const cancel = token.onCancellationRequested(() => {
            try {
              s.stop();
            } catch {
              // already gone
            }
            finish();
          });
          function finish(): void {
            sub.dispose();
            cancel.dispose();
            resolve();
          }
        }),
    );
  }

  target(runId: string | undefined, usable: (s: Run) => boolean, what: string): Run {
    const s = runId ? this.runs.get(runId) : this.runs.pick(vscode.window.activeTextEditor?.document.uri.toString(), usable);
    if (!s)
      throw new RecurrentError(
        runId ? `there is no run ${runId}` : `no run ${what}; run Recurrent: Train on Current File or Recurrent: Load Checkpoint first`,
      );
    return s;
  }

  pause(runId?: string): void {
    this.target(runId, (s) => s.status === 'running', 'is training').pause();
  }

  resume(runId?: string): void {
    const s = this.target(runId, (s) => s.status === 'paused', 'is paused');
    s.resume();
    this.showProgress(s);
  }

  stop(runId?: string): void {
    this.target(runId, (s) => s.status === 'running' || s.status === 'paused', 'is training').stop();
  }

  async restart(runId?: string): Promise<void> {
    const s = this.target(runId, (s) => s.status === 'crashed', 'has crashed');
    await s.restart();
    this.refresh();
    this.showProgress(s);
  }

  // ---- sampling ------------------------------------------------------------------------------

  async sample(opts: SampleOptions = {}): Promise<string | undefined> {
    const s = this.target(opts.runId, (x) => x.alive && x.status !== 'starting', 'has a model');
    const config = vscode.workspace.getConfiguration('recurrent');
    const memory = this.context.globalState;
    const ask = opts.prime === undefined;
    const prime =
      opts.prime ??
      (await vscode.window.showInputBox({
        ignoreFocusOut: true,
        title: `Sample from ${s.label}: prompt`,
        prompt: 'Text the model continues (empty: start from a line break)',
        value: memory.get<string>('sample.prime', ''),
      }));
    if (prime === undefined) return undefined;
    const lengthText =
      opts.length !== undefined
        ? String(opts.length)
        : await vscode.window.showInputBox({
            ignoreFocusOut: true,
            title: `Sample from ${s.label}: length`,
            prompt: 'Tokens to generate',
            value: String(memory.get<number>('sample.length', config.get<number>('sampling.length', 500))),
            validateInput: (v) => (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 1000000 ? undefined : 'a whole number from 1 to 1000000'),
          });
    if (lengthText === undefined) return undefined;
    const temperatureText =
      opts.temperature !== undefined
        ? String(opts.temperature)
        : await vscode.window.showInputBox({
            ignoreFocusOut: true,
            title: `Sample from ${s.label}: temperature`,
            prompt: 'Below 1: safer and more repetitive; above 1: more surprising',
            value: String(memory.get<number>('sample.temperature', s.samplingTemperature)),
            validateInput: (v) => (Number.isFinite(+v) && +v > 0 && +v <= 10 ? undefined : 'a number greater than 0 and at most 10'),
          });
    if (temperatureText === undefined) return undefined;
    const length = Number(lengthText);
    const temperature = Number(temperatureText);
    if (ask) {
      await memory.update('sample.prime', prime);
      await memory.update('sample.length', length);
      await memory.update('sample.temperature', temperature);
    }
    const request = {
      prime,
      length,
      temperature,
      topK: config.get<number>('sampling.topK', 0),
      topP: config.get<number>('sampling.topP', 1),
      greedy: false,
      seed: opts.seed ?? randomBytes(4).readUInt32LE(0),
    };
    if (opts.editor === false) return s.sample(request);

    const doc = await vscode.workspace.openTextDocument({ content: prime, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    // Edits are applied one after another; a closed editor just stops receiving them.
    let edits: Thenable<unknown> = Promise.resolve();
    const append = (text: string): void => {
      edits = edits.then(
        () => editor.edit((b) => b.insert(doc.positionAt(doc.getText().length), text), { undoStopBefore: false, undoStopAfter: false }),
        () => undefined,
      );
    };
    const text = await s.sample(request, append);
    await edits;
    return text;
  }

  // ---- dashboard -----------------------------------------------------------------------------

  openDashboard(runId?: string): void {
    const s = this.target(runId, (x) => x.description !== null, 'has started');
    DashboardPanel.createOrShow(this.context.extensionUri, s);
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  async saveCheckpoint(runId?: string, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const s = this.target(runId, (x) => x.alive && x.description !== null, 'has a model');
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
    await this.saveTo(s, uri);
    if (!target)
      void vscode.window.showInformationMessage(
        `Recurrent Studio: saved ${s.label} at update ${s.latest?.step ?? 0} to ${uri.fsPath || uri.toString()}.`,
      );
    return uri;
  }

  /** The worker writes local files directly; other file systems get the bytes through workspace.fs. */
  private async saveTo(s: Run, uri: vscode.Uri): Promise<void> {
    if (uri.scheme === 'file') {
      await s.save(uri.fsPath);
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'recurrent-'));
    try {
      const path = join(dir, 'checkpoint.safetensors');
      await s.save(path);
      await vscode.workspace.fs.writeFile(uri, await readFile(path));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Lists the autosaved runs (and "Browse..."); the chosen checkpoint is loaded paused, ready to sample
   * or to resume training exactly where it stopped.
   */
  async loadCheckpoint(opts: { runId?: string; uri?: vscode.Uri; textUri?: vscode.Uri } = {}): Promise<string | undefined> {
    const saved = await this.store.list();
    if (opts.runId) {
      const r = saved.find((x) => x.runId === opts.runId);
      if (!r) throw new RecurrentError(`no saved checkpoint for run ${opts.runId}`);
      return this.resumeSaved(r, undefined, true);
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
      if (pick.run) return this.resumeSaved(pick.run, undefined, true);
      uri = (
        await vscode.window.showOpenDialog({ title: 'Load a checkpoint', filters: { Safetensors: ['safetensors'] }, canSelectMany: false })
      )?.[0];
      if (!uri) return undefined;
    }
    // A checkpoint from elsewhere resumes on a text the user names: the active file, or one picked now.
    let textUri = opts.textUri ?? vscode.window.activeTextEditor?.document.uri;
    if (!textUri) {
      textUri = (await vscode.window.showOpenDialog({ title: 'The text to continue training on', canSelectMany: false }))?.[0];
      if (!textUri) return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(textUri);
    const settings = await settingsFor(doc);
    const input = await textToTrain(doc, undefined, settings);
    if (!input) return undefined;
    let local = uri.fsPath;
    if (uri.scheme !== 'file') {
      await this.store.ensure();
      local = join(this.store.dir, `import-${newRunId()}.safetensors`);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(local, await vscode.workspace.fs.readFile(uri));
    }
    return this.launch({
      runId: newRunId(),
      label: `${input.label} (${uri.path.split('/').pop()})`,
      file: doc.uri.toString(),
      text: input.text,
      settings,
      resumeFrom: local,
      paused: true,
      openDashboard: false,
    });
  }

  /** Exact resume of an autosaved run: same run id, same checkpoint file, its text read again from disk. */
  private async resumeSaved(r: SavedRun, text: string | undefined, paused: boolean, settings?: RunSettings): Promise<string> {
    const uri = vscode.Uri.parse(r.file);
    let body = text;
    if (body === undefined) {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === r.file);
      if (open) body = open.getText();
      else {
        try {
          body = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        } catch {
          throw new RecurrentError(
            `the text of this run, ${uri.fsPath || r.file}, cannot be read any more; open the text and use Load Checkpoint > Browse to continue on it`,
          );
        }
      }
    }
    if (textHash(body) !== r.textSha256) {
      void vscode.window.showWarningMessage(
        `${r.label} changed since update ${r.step} was saved: training continues on the current text, so the run is no longer an exact continuation.`,
      );
    }
    const existing = this.runs.get(r.runId);
    if (existing) await this.runs.remove(existing);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === r.file);
    const s = settings ?? (doc ? await settingsFor(doc) : await settingsFor(await vscode.workspace.openTextDocument(uri)));
    return this.launch({
      runId: r.runId,
      label: r.label,
      file: r.file,
      text: body,
      settings: s,
      resumeFrom: this.store.checkpointPath(r.runId),
      paused,
      openDashboard: false,
    });
  }

  async exportPyTorch(runId?: string, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const s = this.target(runId, (x) => x.alive && x.description !== null, 'has a model');
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
    await this.saveTo(s, uri);
    const name = uri.path.split('/').pop()!;
    const py = vscode.Uri.joinPath(uri, '..', name.replace(/\.safetensors$/, '') + '.py');
    const run = s.description!;
    await vscode.workspace.fs.writeFile(py, new TextEncoder().encode(pytorchLoader(run.model, run.tokenizer, name)));
    if (!target) await vscode.window.showTextDocument(py);
    return py;
  }

  async showModelInfo(runId?: string): Promise<vscode.TextDocument> {
    const s = this.target(runId, (x) => x.description !== null, 'has started');
    const r = s.description!;
    const m = s.latest;
    const c = r.model;
    const lines = [
      `# ${s.label}`,
      '',
      `| | |`,
      `| --- | --- |`,
      `| run | ${s.runId} (${s.status}) |`,
      `| cell | ${c.cell}, ${c.layers} layer(s) of ${c.hidden} units${c.bidirectional ? ', bidirectional' : ''} |`,
      `| input | ${c.embedding ? `embedding of ${c.embedding}` : 'one-hot'} over ${r.vocabSize} ${r.tokenizer} tokens |`,
      `| parameters | ${r.parameterCount.toLocaleString('en-US')} |`,
      `| training | batch ${r.train.batch}, k1 ${r.train.k1}, k2 ${r.train.k2}, ${r.train.optimizer} lr ${r.train.lr}, clip ${r.train.clipNorm || r.train.clipValue || 'off'}, seed ${r.train.seed} |`,
      `| text | ${r.trainTokens.toLocaleString('en-US')} training and ${r.validationTokens.toLocaleString('en-US')} validation tokens |`,
      `| learned nothing | ${r.unigramBits.toFixed(3)} bits/token (unigram entropy) |`,
      ...(m ? [`| now | update ${m.step}, ${m.bitsPerToken.toFixed(3)} bits/token, ${Math.round(m.tokensPerSecond)} tokens/s |`] : []),
      ...(s.lastCheckpoint ? [`| checkpoint | update ${s.lastCheckpoint.step}: ${s.lastCheckpoint.path} |`] : []),
      '',
      '## Tensors (PyTorch names)',
      '',
      '| name | shape | parameters |',
      '| --- | --- | ---: |',
      ...r.tensors.map(
        (t) => `| \`${t.name}\` | [${t.shape.join(', ')}] | ${t.shape.reduce((a, b) => a * b, 1).toLocaleString('en-US')} |`,
      ),
      '',
    ];
    const doc = await vscode.workspace.openTextDocument({ content: lines.join('\n'), language: 'markdown' });
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  async openSampleText(): Promise<void> {
    const uri = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'walkthrough', 'sotu-1994.txt');
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    // An untitled copy: the user can train on it, edit it, and save it where they like.
    const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
    await vscode.window.showTextDocument(doc);
  }

  // ---- state shown in the UI -----------------------------------------------------------------

  histories(): RunHistory[] {
    return this.runs.all().map((s) => s.history());
  }

  private refreshTimer: NodeJS.Timeout | undefined;

  private refreshSoon(): void {
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, 200);
  }

  refresh(): void {
    const all = this.runs.all();
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const mine = active ? this.runs.forFile(active) : undefined;
    const set = (key: string, value: boolean): void => void vscode.commands.executeCommand('setContext', key, value);
    set(
      'recurrent.hasModel',
      all.some((s) => s.alive && s.description !== null),
    );
    set(
      'recurrent.anyRunning',
      all.some((s) => s.status === 'running'),
    );
    set(
      'recurrent.anyPaused',
      all.some((s) => s.status === 'paused'),
    );
    set(
      'recurrent.anyCrashed',
      all.some((s) => s.status === 'crashed'),
    );
    set('recurrent.activeRunning', mine?.status === 'running');
    set('recurrent.activePaused', mine?.status === 'paused');
    this.status.show(mine ?? all.at(-1));
  }

  /** Shows a command's failure as one line, with a button where one helps. */
  report(e: unknown): void {
    if (e instanceof SettingsError) {
      const button = 'fix' in e && 'file' in e.fix ? 'Open .recurrent.json' : 'Open Settings';
      void vscode.window.showErrorMessage(`Recurrent Studio: ${e.message}`, button).then((a) => {
        if (a === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'recurrent.');
        if (a === 'Open .recurrent.json' && 'file' in e.fix) void vscode.window.showTextDocument(e.fix.file);
      });
    } else if (e instanceof RecurrentError) {
      void vscode.window.showErrorMessage(`Recurrent Studio: ${e.message}`);
    } else {
      this.log.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      void vscode.window.showErrorMessage(
        `Recurrent Studio hit a bug: ${e instanceof Error ? e.message : String(e)} (details in the Recurrent Studio output).`,
      );
    }
  }

  /** Before the window closes: every live run saves where it is, then its worker ends. */
  async shutdown(): Promise<void> {
    const live = this.runs.all().filter((s) => s.alive && (s.status === 'running' || s.status === 'paused'));
    await Promise.all(live.map((s) => Promise.race([s.save(this.store.checkpointPath(s.runId)).catch(() => undefined), delay(3000)])));
    await delay(0); // the saves' checkpointSaved events reach observe() and start their records
    await Promise.race([Promise.all([...this.pendingRecords]), delay(2000)]);
    await this.runs.disposeAll();
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function newRunId(): string {
  return `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(3).toString('hex')}`;
}

function stem(label: string): string {
  return (
    label
      .replace(/\.[^.]*$/, '')
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-|-$/g, '') || 'model'
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
