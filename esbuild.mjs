// Bundles the five targets: the extension and its training worker (Node, CommonJS because VS Code's
// extension host loads `main` with require), the command line (Node), the engine's training-thread
// worker (Node), and the dashboard (browser).
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const base = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};

// CommonJS has no import.meta: give the bundle's own file URL to the code that locates files beside it
// (the engine's training threads start dist/replicaWorker.cjs from there).
const node = {
  ...base,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'var __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

const targets = [
  { ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.cjs', external: ['vscode'] },
  { ...node, entryPoints: ['src/worker/worker.ts'], outfile: 'dist/worker.cjs' },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.cjs' },
  { ...node, entryPoints: ['src/engine/replicaWorker.ts'], outfile: 'dist/replicaWorker.cjs' },
  { ...base, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
].filter((t) => t.entryPoints.every((e) => existsSync(e)));

if (watch) {
  await Promise.all(targets.map(async (t) => (await esbuild.context(t)).watch()));
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
