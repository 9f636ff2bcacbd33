// What the e2e launcher (test/e2e/run.mjs) tells the suites: which code-server to talk to, which folder
// it serves, where the extension under test lives and where screenshots go.
import { join } from 'node:path';

export interface E2eEnvironment {
  serverUrl: string;
  workspace: string;
  extensionPath: string;
  screenshotsDir: string;
}

export function e2eEnvironment(): E2eEnvironment {
  const serverUrl = process.env.RECURRENT_CS_URL;
  const workspace = process.env.RECURRENT_WORKSPACE;
  const extensionPath = process.env.RECURRENT_EXTENSION_PATH ?? process.cwd();
  if (!serverUrl || !workspace) {
    throw new Error(
      'RECURRENT_CS_URL and RECURRENT_WORKSPACE are not set: run the browser suites with `npm run test:e2e`, which starts code-server for them',
    );
  }
  return {
    serverUrl,
    workspace,
    extensionPath,
    screenshotsDir: process.env.RECURRENT_SCREENSHOTS ?? join(extensionPath, 'test', 'e2e', 'screenshots'),
  };
}
