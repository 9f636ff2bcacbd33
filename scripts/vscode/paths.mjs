// @ts-check
// Where the real-VS Code test environment lives, and which versions it pins. Everything is kept outside
// the project's own node_modules: code-server needs Node 24 while the project stays on Node 20, and a
// cache shared by every clone makes the second set-up a no-op.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** code-server 4.139.1 ships the server and web workbench of VS Code 1.139.1. */
export const CODE_SERVER_VERSION = process.env.RECURRENT_CODE_SERVER_VERSION ?? '4.139.1';
/** code-server refuses any other Node major; the npm package `node-linux-<arch>` ships bin/node and headers. */
export const NODE24_VERSION = process.env.RECURRENT_NODE24_VERSION ?? '24.21.0';

export const cacheRoot = process.env.RECURRENT_VSCODE_CACHE ?? join(homedir(), '.cache', 'recurrent-studio', 'vscode');

export const node24Package = `node-linux-${process.arch}`;
export const node24Dir = join(cacheRoot, `node-${NODE24_VERSION}`);
/** The unpacked Node 24 distribution (bin/node, include/node). */
export const node24Home = join(node24Dir, 'node_modules', node24Package);
export const node24Bin = join(node24Home, 'bin', 'node');

export const codeServerDir = join(cacheRoot, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerEntry = join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Written last by set-up, so a half-finished install is never mistaken for a complete one. */
export const completeMarker = (/** @type {string} */ dir) => join(dir, '.complete');

export const chromiumPath = process.env.RECURRENT_CHROMIUM ?? '/usr/bin/chromium';
