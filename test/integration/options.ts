// The mocha options both launch routes share (our runner in index.ts; @vscode/test-cli's own runner
// through vscode-test.mjs), so a suite behaves the same whichever VS Code runs it.
import type Mocha from 'mocha';

export const mochaOptions: Mocha.MochaOptions = {
  ui: 'tdd',
  color: false, // the output travels through the extension host's console, not a terminal
  // a cold extension host, a worker starting, a webview loading: generous, but a hang still ends
  timeout: 60_000,
  slow: 5_000,
  ...(process.env.RECURRENT_INTEGRATION_GREP ? { grep: process.env.RECURRENT_INTEGRATION_GREP } : {}),
};
