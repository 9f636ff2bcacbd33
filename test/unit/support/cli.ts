// The command line as a user runs it, for the CLI suites: the compiled entry run by a real node process
// in a folder of its own, and the assertions on what the user reads.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { scratchFolder } from './scratch.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The compiled `recurrent` entry (out/src/cli/main.js). */
export const cli = resolve(here, '../../../src/cli/main.js');
/** The repository's root, from out/test/unit/support. */
export const root = resolve(here, '../../../..');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A folder for one suite's files, which any user may enter (tests that run the CLI as nobody need to). */
export function suiteFolder(name: string): string {
  const dir = scratchFolder(name);
  chmodSync(dir, 0o777);
  return dir;
}

export function runIn(dir: string, args: string[], opts: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: dir,
    timeout: 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function fileIn(dir: string, name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Bad input: exactly one line on stderr, no stack trace, a non-zero exit. */
export function assertOneLineError(r: Result, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected a non-zero exit, got ${r.code}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace reached the user');
}

/** The first 6,000 characters of the sample text: small enough to train on in seconds. */
export function sampleText(chars = 6000): string {
  return readFileSync(join(root, 'sample-workspace/state-of-the-union-1994.txt'), 'utf8').slice(0, chars);
}

/** A CLI process running in the background, with its stderr collected and a way to wait for a line. */
export class Background {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  stdout = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(dir: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [cli, ...args], { cwd: dir, ...(env ? { env } : {}) });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r({ code, signal })));
  }

  /** Resolves with the match once stderr matches `pattern` (checked as lines arrive, not on a clock). */
  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.stderr);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`the process ended before ${pattern} appeared:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`${pattern} did not appear within ${timeoutMs / 1000} s:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Every match of a global `pattern` in stderr so far. */
  all(pattern: RegExp): RegExpMatchArray[] {
    return [...this.stderr.matchAll(pattern)];
  }
}
