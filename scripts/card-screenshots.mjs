#!/usr/bin/env node
/**
 * Refreshes docs/images/billing-card-*.png: the overview in a light and a dark host, and a refund
 * request at 320 px. The pictures come from the billing card's own browser test
 * (test/apps/billing-card.test.ts, "screenshots"): `serve --demo` (the built dist/cli.js), an MCP
 * client declaring the Apps extension as alice, and the card framed in headless Chromium by
 * ext-apps' AppBridge exactly as the test checks it, so the docs show what the tests pass on.
 *
 *   npm run build && node scripts/card-screenshots.mjs [folder]
 *
 * Needs Chromium (/usr/bin/chromium, or CHROMIUM_PATH). The demo's audit trail goes to a
 * temporary folder, never to the user's own data folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const folder = resolve(process.argv[2] ?? 'docs/images');
mkdirSync(folder, { recursive: true });
const run = spawnSync('npx', ['vitest', 'run', 'test/apps/billing-card.test.ts', '-t', 'screenshots'], {
  env: { ...process.env, CARD_SCREENSHOT_DIR: folder },
  stdio: 'inherit',
});
if (run.status === 0) process.stdout.write(`${folder}/billing-card-{overview-light,overview-dark,request-320}.png\n`);
process.exitCode = run.status ?? 1;
