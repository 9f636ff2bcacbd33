import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

// A clone must work wherever it lands: no tracked file may lean on a folder beside the repository
// (the team's guidance lives in one, and a user's clone has none) or on a path of one machine. The
// patterns are assembled from parts so that this file does not match itself.
const FORBIDDEN: [RegExp, string][] = [
  [new RegExp(['\\.\\.', 'shared'].join('[\\\\/]')), 'the folder beside the repository'],
  [new RegExp(['shared', '(?:data|CHECKPOINT)'].join('[\\\\/]')), 'the folder beside the repository'],
  [new RegExp(['[\'"]shared[\'"]', '[\'"](?:data|CHECKPOINT)'].join('\\s*,\\s*')), 'the folder beside the repository, as path.join parts'],
  [new RegExp(['', 'work', ''].join('/')), 'an absolute path of the team machine'],
  [new RegExp(['', '(?:root|home|Users|tmp)', ''].join('/')), 'an absolute path of one machine'],
  [/[A-Z]:\\(?:Users|work)\\/, 'an absolute Windows path'],
];

test('no tracked file refers to a folder outside the repository or to a path of one machine', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  assert.ok(files.length > 100, `expected the repository's files from git ls-files, got ${files.length}`);
  const found: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue; // deleted in the work tree, not yet committed
    const bytes = readFileSync(file);
    if (bytes.includes(0)) continue; // binary: images, checkpoints
    const lines = bytes.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      for (const [pattern, what] of FORBIDDEN) {
        const m = pattern.exec(line);
        if (m) found.push(`${file}:${i + 1}: ${JSON.stringify(m[0])} (${what}): ${line.trim().slice(0, 120)}`);
      }
    });
  }
  assert.deepEqual(found, [], `files that depend on something outside the repository:\n${found.join('\n')}`);
});
