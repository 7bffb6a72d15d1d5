#!/usr/bin/env node
/**
 * Refreshes docs/panel.png: `serve --demo` (the built dist/cli.js) on a free loopback port, the
 * assistant answers alice@example.com by identity token and by emailed code (so "What the
 * assistant showed" has rows), then headless Chromium signs in to the panel and takes the whole
 * customer page at a desktop width.
 *
 *   npm run build && node scripts/panel-screenshot.mjs [out.png] [width]
 *
 * Needs Chromium (/usr/bin/chromium, or CHROMIUM_PATH). The demo's audit trail goes to a
 * temporary folder, never to the user's own data folder.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, DEMO_STAFF_KEY, mintIdentityToken } from '../dist/demo/demo-identity.js';

const out = resolve(process.argv[2] ?? 'docs/panel.png');
const width = Number(process.argv[3] ?? 1280);

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** `serve --demo` until its banner names the panel; everything it prints is kept (codes print to stderr). */
async function startDemo(dataDir) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--demo'], {
    env: { ...process.env, PORT: String(port), XDG_DATA_HOME: dataDir, AUDIT_DB: join(dataDir, 'audit-demo.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve --demo did not start within 20 s:\n${output}`)), 20_000);
    child.once('exit', (code) => fail(new Error(`serve --demo exited (${code}):\n${output}`)));
    const check = setInterval(() => {
      const match = /Insight panel:\s+(http:\/\/\S+)\/panel/.exec(output);
      if (match) {
        clearInterval(check);
        clearTimeout(timer);
        done(match[1]);
      }
    }, 50);
  });
  return { url, child, output: () => output };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'sbm-panel-screenshot-'));
  const demo = await startDemo(dataDir);
  let browser;
  try {
    const call = async (tool, headers, body = {}) => {
      const response = await fetch(`${demo.url}/v1/tools/${tool}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO_HOST_KEY}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (answer.is_error) throw new Error(`${tool}: ${answer.error?.message ?? response.status}`);
      return answer;
    };

    // A chatbot whose site signed alice in (identity token)...
    const token = { 'x-customer-token': await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 600), 'x-conversation-id': 'chat-1' };
    for (const tool of ['get_invoice_history', 'get_billing_info', 'get_payment_history']) await call(tool, token);
    // ...and a visitor who proved the address with the code the demo prints.
    const chat = { 'x-conversation-id': 'chat-2' };
    const printed = demo.output().length;
    await call('verify_email_start', chat, { email: DEMO_CUSTOMER_EMAIL });
    let code;
    for (let waited = 0; !code && waited < 5_000; waited += 50) {
      code = /DEMO OUTBOX[\s\S]*?\b(\d{6})\b/.exec(demo.output().slice(printed))?.[1];
      if (!code) await new Promise((done) => setTimeout(done, 50));
    }
    if (!code) throw new Error('the demo printed no verification code');
    await call('verify_email_confirm', chat, { code });
    await call('get_upcoming_invoice', chat);

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(`${demo.url}/panel?email=${encodeURIComponent(DEMO_CUSTOMER_EMAIL)}&conversation=chat-2&host=demo-host`);
    await page.getByLabel('Staff key').fill(DEMO_STAFF_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('disclosures').waitFor();
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`${out} (${width} px wide, ${await page.getByTestId('disclosure').count()} audit rows)\n`);
  } finally {
    await browser?.close();
    demo.child.kill('SIGTERM');
    await new Promise((done) => (demo.child.exitCode === null ? demo.child.once('exit', done) : done()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
