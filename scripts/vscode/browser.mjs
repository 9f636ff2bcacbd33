// @ts-check
// Debian's Chromium driven by playwright-core, allowed to talk to loopback only. Used by the integration
// launcher (the workbench is only the extension host's client there) and by the e2e helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './paths.mjs';

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-default-apps',
  // Names other than loopback do not resolve, so even requests playwright cannot intercept (service
  // workers, the browser's own) never leave the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Anything that is not loopback, an inline payload or a webview's own scheme. */
const nonLoopback = /^(?!(https?|wss?):\/\/(127\.0\.0\.1|localhost)[:/]|data:|blob:|vscode-webview:|vscode-file:)/;

/**
 * @typedef {object} Browser
 * @property {import('playwright-core').BrowserContext} context
 * @property {import('playwright-core').Page} page
 * @property {string[]} blocked   URLs refused because they were not on loopback
 * @property {() => Promise<void>} close  idempotent; removes the throwaway profile
 */

/**
 * @param {{viewport?: {width: number, height: number}}} [o]
 * @returns {Promise<Browser>}
 */
export async function launchBrowser(o = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'recurrent-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: o.viewport ?? { width: 1400, height: 900 },
    args: chromiumArgs,
  });
  /** @type {string[]} */
  const blocked = [];
  await context.route(nonLoopback, (route) => {
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(nonLoopback, (ws) => {
    blocked.push(ws.url());
    return ws.close();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    blocked,
    close: async () => {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The workbench URL that opens `folder`, optionally running the extension at `extensionPath` unpacked
 * (an Extension Development Host) and, with `testsPath`, its mocha runner inside the extension host.
 * Both need a server started with the smoke-test driver.
 * @param {string} serverUrl @param {{folder: string, extensionPath?: string, testsPath?: string}} o
 */
export function workbenchUrl(serverUrl, o) {
  const host = new URL(serverUrl).host;
  /** @type {[string, string][]} */
  const payload = [];
  if (o.extensionPath) payload.push(['extensionDevelopmentPath', `vscode-remote://${host}${o.extensionPath}`]);
  if (o.testsPath) payload.push(['extensionTestsPath', `vscode-remote://${host}${o.testsPath}`]);
  let url = `${serverUrl}/?folder=${encodeURIComponent(o.folder)}`;
  if (payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}
