// Smoke suite: the extension loads in a real extension host and keeps the manifest's promises.
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';
import { extensionId, readManifest, recurrentCommands } from './manifest.js';

suite('Recurrent Studio in the extension host', () => {
  let extension: vscode.Extension<unknown>;
  let manifest: ReturnType<typeof readManifest>;

  suiteSetup(() => {
    const candidates = vscode.extensions.all.filter((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.equal(
      candidates.length,
      1,
      `expected exactly one extension named recurrent-studio under development, got ${candidates.map((e) => e.id).join(', ') || 'none'}`,
    );
    extension = candidates[0]!;
    manifest = readManifest(extension.extensionPath);
  });

  test('is registered under the manifest publisher.name id', () => {
    assert.equal(extension.id.toLowerCase(), extensionId(manifest).toLowerCase());
  });

  test('activates without throwing', async () => {
    await extension.activate();
    assert.equal(extension.isActive, true, 'expected isActive after activate(), got false');
  });

  test('registers every recurrent.* command its manifest contributes', async function () {
    const contributed = recurrentCommands(manifest).map((c) => c.command);
    if (contributed.length === 0) this.skip(); // nothing promised yet: the manifest has no commands
    await extension.activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(
      missing,
      [],
      `expected all ${contributed.length} contributed commands registered after activation; missing: ${missing.join(', ')}`,
    );
  });

  test('opens the sample workspace', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'expected the workbench to open a workspace folder, got none');
    const texts = await vscode.workspace.findFiles('*.txt');
    assert.ok(texts.length > 0, `expected a .txt file to train on in ${folder.uri.fsPath}, found none`);
    const doc = await vscode.workspace.openTextDocument(texts[0]!);
    await vscode.window.showTextDocument(doc);
    assert.ok(doc.getText().length > 10_000, `expected a text of more than 10 000 characters, got ${doc.getText().length}`);
  });
});
