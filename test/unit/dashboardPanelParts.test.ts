// The pure parts of the dashboard panel: its page and content security policy, and the coalescing
// that keeps the webview at a few messages a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, dashboardHtml } from '../../src/extension/dashboardHtml.js';
import { coalesce } from '../../src/extension/eventCoalescer.js';
import { PROTOCOL_VERSION, type WorkerEvent } from '../../src/protocol/messages.js';
import { gradientFlow, metrics } from './support/syntheticSession.js';

const v = PROTOCOL_VERSION;
const nonce = 'AbCdEfGhIjKlMnOpQrStUvWx';

test('the content security policy allows only the nonce script and the webview origin', () => {
  const csp = contentSecurityPolicy('vscode-webview://abc', nonce);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, `no inline, eval, remote or wildcard sources: ${csp}`);
});

test('the page loads the bundled script with the nonce and nothing else runs', () => {
  const html = dashboardHtml({
    scriptUri: 'vscode-webview://abc/dist/webview.js',
    styleUri: 'vscode-webview://abc/dist/webview.css',
    cspSource: 'vscode-webview://abc',
    nonce,
  });
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1, `expected one script tag, got ${scripts.length}`);
  assert.ok(scripts[0]!.includes(`nonce="${nonce}"`) && scripts[0]!.includes('dist/webview.js'), `got ${scripts[0]}`);
  assert.doesNotMatch(html, /style="/, 'no inline style attributes (the policy would block them)');
});

test('a nonce that is short or could break out of the attribute is refused', () => {
  assert.throws(() => dashboardHtml({ scriptUri: 'a', styleUri: 'b', cspSource: 'c', nonce: 'short' }), /nonce/);
  assert.throws(() => dashboardHtml({ scriptUri: 'a', styleUri: 'b', cspSource: 'c', nonce: 'x"><script>alert(1)</script>' }), /nonce/);
});

test('coalescing joins metrics, keeps only the newest gradient flow and state, and keeps order otherwise', () => {
  const events: WorkerEvent[] = [
    { v, type: 'metrics', metrics: metrics('lstm', 1, 10) },
    { v, type: 'gradientFlow', flow: gradientFlow('lstm', 1, 10) },
    { v, type: 'sample', step: 10, temperature: 1, prime: '', text: 'a' },
    { v, type: 'metrics', metrics: metrics('lstm', 11, 20) },
    { v, type: 'gradientFlow', flow: gradientFlow('lstm', 1, 20) },
    { v, type: 'state', state: 'paused' },
    { v, type: 'state', state: 'running' },
  ];
  const out = coalesce(events);
  assert.deepEqual(
    out.map((e) => e.type),
    ['metrics', 'gradientFlow', 'sample', 'state'],
    `got ${out.map((e) => e.type)}`,
  );
  const m = out[0] as Extract<WorkerEvent, { type: 'metrics' }>;
  assert.deepEqual(
    m.metrics.map((x) => x.step),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.equal((out[1] as Extract<WorkerEvent, { type: 'gradientFlow' }>).flow.step, 20);
  assert.equal((out[3] as Extract<WorkerEvent, { type: 'state' }>).state, 'running');
  assert.equal((events[0] as Extract<WorkerEvent, { type: 'metrics' }>).metrics.length, 10, 'the input events are not modified');
});

test('coalescing nothing gives nothing', () => {
  assert.deepEqual(coalesce([]), []);
});
