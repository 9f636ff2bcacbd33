// A real VS Code workbench (code-server) in headless Chromium, and the moves a user makes in it. A suite
// is one `workbenchTest(...)` per test: it gets a workbench with the extension loaded from source, a
// screenshot after every view it brings up, one on failure, and the browser closed whatever happens.
//
//   import { workbenchTest } from './support/workbench.js';
//   workbenchTest('the dashboard draws the loss curve', async (wb) => { await wb.runCommand('Recurrent: Open Dashboard'); ... });
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { launchBrowser, workbenchUrl } from '../../../scripts/vscode/browser.mjs';
import { e2eEnvironment } from './environment.js';

/** Summary of a 2D canvas's pixels, computed in the page (a full RGBA dump would be megabytes). */
export interface CanvasPixels {
  width: number;
  height: number;
  /** pixels with alpha > 0 */
  opaque: number;
  /** pixels whose colour differs from the top-left pixel, i.e. not plain background */
  inked: number;
  /** distinct RGBA values, counted up to 1024 */
  distinctColours: number;
}

export type Rgba = [number, number, number, number];

export interface Workbench {
  page: Page;
  /** the folder the workbench has open, on disk (a throwaway copy of sample-workspace/) */
  workspace: string;
  /** Saves a screenshot under test/e2e/screenshots/ and returns its path. */
  shot(label: string): Promise<string>;
  /** Opens a workspace file ('a.txt', 'folder/b.json') from the Explorer; resolves once its text shows. */
  openFile(path: string): Promise<void>;
  /**
   * Runs a command from the palette (F1) by its label, e.g. "Recurrent: Train on Current File". With
   * `opensInput`, the command asks something first: resolves once a quick input titled like it shows
   * (instead of once the palette has gone).
   */
  runCommand(label: string, o?: { opensInput?: RegExp }): Promise<void>;
  /** Types `value` into the quick input box titled like `title` (showInputBox) and presses Enter. */
  answer(title: RegExp, value: string): Promise<void>;
  /** Picks the item whose label matches `label` in the quick pick titled like `title`; returns the row's text. */
  pick(title: RegExp, label: RegExp): Promise<string>;
  /** Text of every text editor on screen (one per editor group), as rendered: the lines in view. */
  editorTexts(): Promise<string[]>;
  /** Whether the palette offers a command with exactly this label. */
  paletteHas(label: string, timeoutMs?: number): Promise<boolean>;
  /** The HTML of the visible webview panel (optionally the one whose tab has this title). */
  webview(title?: string): Promise<FrameLocator>;
  /** Pixel summary of a canvas inside a webview (or the page). */
  canvasPixels(frame: FrameLocator | Page, selector: string): Promise<CanvasPixels>;
  /** One pixel of a canvas, in canvas coordinates. */
  canvasPixel(frame: FrameLocator | Page, selector: string, x: number, y: number): Promise<Rgba>;
  /** Moves the mouse over the first occurrence of `text` in the active editor; returns the hover's text. */
  hover(text: string): Promise<string>;
  /** Opens the Problems panel and returns each row's text (file rows and marker rows). */
  problems(): Promise<string[]>;
  /** Texts of the notification toasts on screen. */
  notifications(): Promise<string[]>;
  /** Errors the page logged to its console so far (shown when a test fails). */
  consoleErrors: string[];
}

const env = () => e2eEnvironment();

/**
 * How long any state the suites wait for (a rendered row, a toast, a chart redrawn, a training step) may
 * take to come: a bound that catches a hang, not a speed the machine must have. On a machine shared by
 * many, the same wait took 30 s and more at load averages of 20-30 on two cores.
 */
export const PATIENCE_MS = 120_000;

/**
 * Retries `check` (an assertion, or a function returning a value) until it stops throwing or `timeoutMs`
 * passes, then throws its last error: for things that appear asynchronously (diagnostics, samples).
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = PATIENCE_MS, intervalMs = 250 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

/** Where a workbench comes from, when not the launcher's code-server with the extension from source. */
export interface WorkbenchOptions {
  /** another code-server (one the test started, e.g. with the packaged extension installed) */
  serverUrl?: string;
  /** the folder to open; default: the launcher's workspace */
  workspace?: string;
  /** the extension to run unpacked as an Extension Development Host; null: none, only what the server has installed */
  extensionPath?: string | null;
}

/** Screenshots taken per test name, so a test that opens the workbench again (a reload, a restarted
 * server) numbers its pictures on from where it was instead of overwriting them. */
const shotsTaken = new Map<string, number>();

/** Opens the workbench for one test; `close` ends the browser (code-server is the launcher's, or the caller's). */
export async function openWorkbench(testName: string, o: WorkbenchOptions = {}): Promise<Workbench & { close(): Promise<void> }> {
  const launcher = env();
  const serverUrl = o.serverUrl ?? launcher.serverUrl;
  const workspace = o.workspace ?? launcher.workspace;
  const extensionPath = o.extensionPath === undefined ? launcher.extensionPath : o.extensionPath;
  const { screenshotsDir } = launcher;
  mkdirSync(screenshotsDir, { recursive: true });
  const browser = await launchBrowser();
  const { page } = browser;
  page.setDefaultTimeout(PATIENCE_MS);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text().slice(0, 300));
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message.slice(0, 300)}`));
  const shot = async (label: string) => {
    const n = (shotsTaken.get(testName) ?? 0) + 1;
    shotsTaken.set(testName, n);
    const file = join(screenshotsDir, `${slug(testName)}--${String(n).padStart(2, '0')}-${slug(label)}.png`);
    await page.screenshot({ path: file });
    return file;
  };

  const quickInput = page.locator('.quick-input-widget');
  const closePalette = async () => {
    if (await quickInput.isVisible()) await page.keyboard.press('Escape');
    await quickInput.waitFor({ state: 'hidden' });
  };
  /** The palette row for `label`: rows are labelled "<label>" plus, for some, a keybinding or "recently used". */
  const paletteRow = (label: string): Locator =>
    page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: exactText(label) }) })
      .first();
  const quickInputTitled = (title: RegExp): Locator =>
    quickInput.filter({ visible: true }).filter({ has: page.locator('.quick-input-title', { hasText: title }) });
  const openPalette = async (label: string) => {
    await closePalette();
    await page.keyboard.press('F1');
    const input = quickInput.locator('input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${label}`);
  };

  const wb: Workbench & { close(): Promise<void> } = {
    page,
    workspace,
    consoleErrors,
    shot,
    async openFile(path) {
      // expand each folder on the way (rows are named by their last path segment), then open the file
      const segments = path.split('/');
      for (const [i, segment] of segments.entries()) {
        const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: exactText(segment) }).first();
        // A file just written by the test shows when the file watcher reports it; on a busy machine
        // (inotify limits, load) that can lag, so ask the Explorer to refresh once before waiting long.
        if (
          !(await row.waitFor({ timeout: 5_000 }).then(
            () => true,
            () => false,
          ))
        ) {
          await wb.runCommand('Refresh Explorer');
          await row.waitFor();
        }
        if (i < segments.length - 1) {
          if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
        } else {
          await row.dblclick();
        }
      }
      const name = segments.at(-1)!;
      await page.locator('.tabs-container .tab', { hasText: exactText(name) }).waitFor();
      await page.locator('.monaco-editor .view-lines .view-line').first().waitFor();
      await shot(`file-${name}`);
    },
    async runCommand(label, o = {}) {
      await openPalette(label);
      const row = paletteRow(label);
      try {
        await row.waitFor();
      } catch {
        const offered = await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
        await shot(`palette-missing-${label}`);
        throw new Error(`expected the palette to offer "${label}", it offered: ${offered.map((s) => `"${s}"`).join(', ') || 'nothing'}`);
      }
      await row.click();
      if (o.opensInput) await quickInputTitled(o.opensInput).waitFor();
      else await quickInput.waitFor({ state: 'hidden' });
      await shot(`command-${label}`);
    },
    async answer(title, value) {
      await quickInputTitled(title).waitFor();
      await quickInput.locator('input').fill(value);
      await shot(`input-${title.source}`);
      await page.keyboard.press('Enter');
      // the next question reuses the widget: wait until this one is answered, not until the widget hides
      await quickInputTitled(title).waitFor({ state: 'hidden' });
    },
    async pick(title, label) {
      await quickInputTitled(title).waitFor();
      const row = quickInput
        .locator('.quick-input-list .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: label }) })
        .first();
      try {
        await row.waitFor();
      } catch {
        const offered = await quickInput.locator('.quick-input-list .monaco-list-row').allInnerTexts();
        throw new Error(
          `expected the quick pick "${title.source}" to offer an item like ${label}, it offered: ${offered.map((x) => `"${x.replace(/\s+/g, ' ')}"`).join(', ') || 'nothing'}`,
        );
      }
      const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
      await shot(`pick-${title.source}`);
      await row.click();
      await quickInputTitled(title).waitFor({ state: 'hidden' });
      return text;
    },
    async editorTexts() {
      const texts = await page.locator('.editor-group-container .monaco-editor .view-lines').filter({ visible: true }).allInnerTexts();
      // Monaco renders spaces as no-break spaces
      return texts.map((t) => t.replace(/\u00a0/g, ' '));
    },
    async paletteHas(label, timeoutMs = PATIENCE_MS) {
      await openPalette(label);
      const found = await paletteRow(label)
        .waitFor({ timeout: timeoutMs })
        .then(
          () => true,
          () => false,
        );
      await closePalette();
      return found;
    },
    async webview(title) {
      if (title) await page.locator('.tabs-container .tab', { hasText: exactText(title) }).click();
      const host = page.locator('iframe.webview.ready').filter({ visible: true }).first();
      await host.waitFor();
      const inner = host.contentFrame().frameLocator('#active-frame');
      await inner.locator('body').waitFor();
      await shot(`webview-${title ?? 'active'}`);
      return inner;
    },
    async canvasPixels(frame, selector) {
      return frame
        .locator(selector)
        .first()
        .evaluate((el) => {
          const c = el as HTMLCanvasElement;
          const ctx = c.getContext('2d');
          if (!ctx) throw new Error(`${el.tagName} has no 2D context`);
          const { data } = ctx.getImageData(0, 0, c.width, c.height);
          let opaque = 0;
          let inked = 0;
          const colours = new Set<number>();
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3]! > 0) opaque++;
            if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3]) inked++;
            if (colours.size < 1024) colours.add(((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0);
          }
          return { width: c.width, height: c.height, opaque, inked, distinctColours: colours.size };
        });
    },
    async canvasPixel(frame, selector, x, y) {
      return frame
        .locator(selector)
        .first()
        .evaluate(
          (el, [px, py]) => {
            const ctx = (el as HTMLCanvasElement).getContext('2d');
            if (!ctx) throw new Error(`${el.tagName} has no 2D context`);
            return Array.from(ctx.getImageData(px!, py!, 1, 1).data) as Rgba;
          },
          [x, y],
        );
    },
    async hover(text) {
      const lines = page.locator('.monaco-editor .view-lines').filter({ visible: true }).first();
      // The centre of the text on screen, found through a DOM Range over the editor's rendered text.
      const locate = () =>
        lines.evaluate((root, wanted) => {
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = (n.textContent ?? '').indexOf(wanted);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(n, at);
            range.setEnd(n, at + wanted.length);
            const r = range.getBoundingClientRect();
            return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
          }
          return null;
        }, text);
      const hover = page.locator('.monaco-editor .monaco-hover').filter({ visible: true }).first();
      // A provider that is slow to answer (a language server starting on a busy machine) may let the hover
      // go: leave the word and come back until it shows. The word is found again each time, since the
      // workbench may still be laying out (a side bar, breadcrumbs) and move it after the first look.
      await eventually(async () => {
        if (!(await hover.isVisible())) {
          const box = await locate();
          if (!box) throw new Error(`expected "${text}" on screen in the active editor, it is not (scrolled away or not open?)`);
          await page.mouse.move(1, 1);
          await page.mouse.move(box.x, box.y);
        }
        await hover.waitFor({ timeout: 15_000 });
      });
      // a hover provider's answer replaces a "Loading..." placeholder
      const content = await eventually(async () => {
        const t = (await hover.innerText()).trim();
        if (/^Loading\.\.\.$/.test(t)) throw new Error(`expected the hover over "${text}" to finish loading, it still shows "${t}"`);
        return t;
      });
      await shot(`hover-${text}`);
      return content;
    },
    async problems() {
      // Ctrl+Shift+M toggles the panel: press it only while the panel is hidden (a press can be lost on a
      // busy workbench, so look again), never when it shows, which would close it.
      const panel = page.locator('.markers-panel').filter({ visible: true }).first();
      await eventually(async () => {
        if (!(await panel.isVisible())) await page.keyboard.press('Control+Shift+M');
        await panel.waitFor({ timeout: 5_000 });
      });
      await shot('problems');
      return panel.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? r.textContent ?? ''));
    },
    async notifications() {
      return page.locator('.notification-toast .notification-list-item-message').allInnerTexts();
    },
    async close() {
      await browser.close();
    },
  };

  await page.goto(workbenchUrl(serverUrl, { folder: workspace, ...(extensionPath ? { extensionPath } : {}) }));
  await page.locator('.monaco-workbench').waitFor();
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor();
  await shot('workbench');
  return wb;
}

/** A case-sensitive whole-text matcher for labels (playwright's string hasText is a substring match). */
function exactText(s: string): RegExp {
  return new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/**
 * One browser test: opens a workbench, runs `body`, and on failure keeps a screenshot and prints the
 * page's console errors; the browser is closed either way.
 */
export function workbenchTest(
  name: string,
  body: (wb: Workbench, t: TestContext) => Promise<void>,
  { timeoutMs = 10 * PATIENCE_MS } = {},
): void {
  test(name, { timeout: timeoutMs }, async (t) => {
    const wb = await openWorkbench(name);
    try {
      await body(wb, t);
      await wb.shot('end');
    } catch (e) {
      const file = await wb.shot('failure').catch(() => '(screenshot failed)');
      t.diagnostic(`screenshot at failure: ${file}`);
      for (const line of wb.consoleErrors.slice(0, 10)) t.diagnostic(`browser console: ${line}`);
      throw e;
    } finally {
      await wb.close();
    }
  });
}
