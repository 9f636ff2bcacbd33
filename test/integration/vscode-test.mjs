// The @vscode/test-electron route, through @vscode/test-cli, for machines that can download VS Code
// (desktop or CI with internet): `npm run test:integration:electron`. It runs the same bundled suites
// with the same mocha options and summary line as the code-server route (runInCodeServer.mjs);
// test-cli brings its own small runner in place of out/integration/index.cjs.
import { defineConfig } from '@vscode/test-cli';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyWorkspace } from '../../scripts/vscode/codeServer.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { mochaOptions } = createRequire(import.meta.url)(join(root, 'out', 'integration', 'options.cjs'));
// a throwaway copy, so the tests never change sample-workspace/; gone when vscode-test exits
const workspace = copyWorkspace(join(root, 'sample-workspace'));
process.on('exit', () => rmSync(workspace, { recursive: true, force: true }));

export default defineConfig({
  label: 'integration',
  files: '../../out/integration/*.test.cjs', // a glob relative to this file
  extensionDevelopmentPath: root,
  workspaceFolder: workspace,
  version: process.env.RECURRENT_VSCODE_VERSION ?? 'stable',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  mocha: { ...mochaOptions, reporter: join(root, 'out', 'integration', 'reporter.cjs') },
});
