// The one mocha runner entry the extension host loads (extensionTestsPath = out/integration/index.cjs). It
// runs every suite bundled next to it (`*.test.cjs`, one per test/integration/*.test.ts), so adding a
// suite is adding a file.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mochaOptions } from './options.js';
import SummaryReporter from './reporter.js';

export function run(): Promise<void> {
  const mocha = new Mocha({ ...mochaOptions, reporter: SummaryReporter });
  // esbuild bundles this file to CommonJS, where __dirname is the bundle's folder
  const suites = readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.cjs'))
    .sort();
  if (suites.length === 0)
    return Promise.reject(new Error(`no *.test.cjs suites next to ${__dirname}: run node test/integration/build.mjs`));
  for (const f of suites) mocha.addFile(join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
