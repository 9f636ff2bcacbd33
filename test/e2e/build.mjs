// Bundles each browser suite (test/e2e/*.test.ts) to ESM under out/e2e/ for node's test runner; type
// checking is `tsc -p test/e2e`. Packages (playwright-core) stay external.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', '..', 'out', 'e2e');
rmSync(outdir, { recursive: true, force: true }); // a deleted suite must not keep running
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
await esbuild.build({
  entryPoints: suites.map((f) => join(here, f)),
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log(`e2e: bundled ${suites.length} suite(s) into ${outdir}`);
