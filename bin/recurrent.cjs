#!/usr/bin/env node
// The `recurrent` command: a thin entry so `npx recurrent` finds the bundled CLI that `npm ci` builds (prepare).
require('../dist/cli.cjs');
