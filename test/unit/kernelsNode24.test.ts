// The kernel tests again on Node 24, the runtime of code-server's extension host (Electron's Node 22
// validates the same relaxed SIMD): Node 20 runs both builds too (its V8 behind a flag the engine sets,
// wasmKernels.ts), but the extension host's V8 is another compiler of them, so this run holds both builds
// to the reference on it as well. Node 24 is the one `npm run setup:vscode` caches for the integration
// tests; without it the test is skipped, saying so.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const KERNEL_TESTS = ['wasmKernels', 'wasmStepKernels', 'wasmOptimizer', 'fastStepper', 'wasmModel', 'threads'];

const paths = (await import(new URL('../../../scripts/vscode/paths.mjs', import.meta.url).href)) as { node24Bin: string };
const node24 = paths.node24Bin;
const skip = existsSync(node24)
  ? false
  : `Node 24 is not installed at ${node24} (npm run setup:vscode installs it): the relaxed SIMD kernels were NOT tested`;

test('on Node 24 the kernel tests pass for both kernel sets, relaxed SIMD and SIMD', { skip, timeout: 600_000 }, async (t) => {
  const files = KERNEL_TESTS.map((n) => fileURLToPath(new URL(`./${n}.test.js`, import.meta.url)));
  // Without the runner's NODE_TEST_CONTEXT, which would make the child report to this runner instead.
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(node24, ['--test', '--test-reporter=spec', ...files], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const count = (what: string): number => Number(new RegExp(`^ℹ ${what} (\\d+)`, 'm').exec(out)?.[1] ?? NaN);
  const failures = out
    .split('\n')
    .filter((l) => /✖|Error|expected/.test(l))
    .slice(0, 40)
    .join('\n');
  assert.equal(code, 0, `Node 24 kernel tests exited with ${code}:\n${failures || out.slice(-4000)}`);
  assert.equal(count('fail'), 0);
  // Both sets ran: a runtime that silently fell back to plain SIMD would leave no relaxed-simd tests.
  for (const set of ['relaxed-simd', 'simd']) {
    assert.match(out, new RegExp(`✔ ${set}: products equal the reference`), `Node 24 ran no ${set} product test:\n${out.slice(0, 3000)}`);
  }
  t.diagnostic(`${count('pass')} kernel tests passed on Node 24 (${node24})`);
});
