/**
 * What a user's installed `stripe-billing-mcp` runs: the packed tarball, installed into an empty folder,
 * with none of this repository's node_modules. The bundle must carry everything it needs.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HOST_KEY } from '../src/demo/demo-identity.js';
import { cleanEnv } from './support/cli.js';
import { addSqliteDriver, installPacked, type PackedInstall } from './support/packed.js';
import { findFreePort, startRedisServer, type RedisServer } from './support/redis-server.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const run = promisify(execFile);

let packed: PackedInstall | undefined;
let files: string[];
let cli: string;

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

beforeAll(async () => {
  packed = await installPacked();
  ({ files, cli } = packed);
}, 120_000);

afterAll(async () => {
  await packed?.remove();
});

describe('the packed package', () => {
  it('ships the bundle and nothing else that is not needed, and installs no dependency', async () => {
    expect(files.filter((path) => !path.startsWith('bundle/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files).toContain('bundle/cli.js');
    expect(files.some((path) => /^(src|test|dist|bench|scripts)\//.test(path))).toBe(false);
    // Source maps stay in the repository: they were more than half of what an install took.
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
    const installed = await readdir(join(packed!.app, 'node_modules'));
    expect(installed.filter((name) => !name.startsWith('.'))).toEqual(['stripe-billing-mcp']);
    expect(await sizeOf(join(packed!.app, 'node_modules'))).toBeLessThan(10 * 1024 * 1024);
  });

  it("a thrown error's stack names the functions it went through, though the bundle is minified", async () => {
    const chunks = await readdir(join(cli, '..', 'chunks'));
    const runCommand = chunks.find((name) => /^run-command-.*\.js$/.test(name));
    expect(runCommand).toBeDefined();
    const script = `const { runCommand } = await import(${JSON.stringify(pathToFileURL(join(cli, '..', 'chunks', runCommand!)).href)});
try { await runCommand('stdio', { staff: true, demo: false, 'demo-verify': false, json: false }); } catch (error) { process.stdout.write(error.stack); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: cleanEnv({ STRIPE_API_KEY: 'not-a-stripe-key' }) });
    expect(stdout).toMatch(/^ConfigurationError: STRIPE_API_KEY is not a Stripe API key/);
    expect(stdout).toMatch(/\n\s+at parseStripeKey \(/);
    expect(stdout).toMatch(/\n\s+at runCommand \(/);
    expect(stdout).not.toContain('not-a-stripe-key');
  });

  it('answers tools/list and a tool call over stdio on the demo account', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, '--demo'], env: cleanEnv({ LOG_LEVEL: 'silent' }), stderr: 'ignore' });
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('get_subscription_status');
      const result = await client.callTool({ name: 'get_subscription_status', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.structuredContent)).toContain('$49.00 per month');
    } finally {
      await client.close();
    }
  });

  it('without the optional SQLite driver, serve names the three ways on and stdio still works', async () => {
    const started = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'serve', '--demo'], { env: cleanEnv({ PORT: '0' }), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    expect(started.code).toBe(2);
    expect(started.stderr).toContain('npm install better-sqlite3@12');
    expect(started.stderr).toContain('DATABASE_URL=postgres://');
    expect(started.stderr).toContain('AUDIT=off');
  });

  it('doctor --demo exits 0', async () => {
    const { stdout } = await run(process.execPath, [cli, 'doctor', '--demo'], { env: cleanEnv() });
    expect(stdout).toContain('every enabled tool will work');
  });

  describe('serve --demo with a real Redis and a real SMTP server', () => {
    let redis: RedisServer;
    let smtp: TestSmtpServer;
    let server: ChildProcess;
    let url: string;

    beforeAll(async () => {
      // With the optional driver beside it, as a full `npm install` leaves it: the trail is on.
      await addSqliteDriver(packed!.app);
      [redis, smtp] = await Promise.all([startRedisServer(), startSmtpServer()]);
      const port = await findFreePort();
      url = `http://127.0.0.1:${port}`;
      server = spawn(process.execPath, [cli, 'serve', '--demo'], {
        env: cleanEnv({
          PORT: String(port),
          STORE_URL: redis.url,
          VERIFY_SECRET: 'package-test-verify-secret-at-least-32-bytes',
          SMTP_URL: smtp.url,
          MAIL_FROM: 'Demo Billing <billing@demo.test>',
          LOG_LEVEL: 'warn',
        }),
        stdio: 'ignore',
      });
    }, 30_000);

    afterAll(async () => {
      server?.kill('SIGTERM');
      if (server) await new Promise((resolve) => server.once('exit', resolve));
      await Promise.all([redis?.stop(), smtp?.stop()]);
    });

    it('answers /healthz and mails a verification code through SMTP', async () => {
      await expect.poll(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status, { timeout: 15_000, interval: 100 }).toBe(200);
      const response = await fetch(`${url}/v1/tools/verify_email_start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-conversation-id': 'package-test-1', 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'alice@example.com' }),
      });
      expect(((await response.json()) as { is_error: boolean }).is_error).toBe(false);
      const message = await smtp.waitForMessage(10_000);
      expect(message.to).toEqual(['alice@example.com']);
      expect(message.text).toMatch(/\b\d{6}\b/);
    });

    it('keeps the audit trail in SQLite through the bundled worker, readable by `audit` while serve runs', async () => {
      await expect.poll(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status, { timeout: 15_000, interval: 100 }).toBe(200);
      await expect
        .poll(async () => {
          const { stdout } = await run(process.execPath, [cli, 'audit', '--demo', '--json', '--email', 'alice@example.com'], { env: cleanEnv() });
          return (JSON.parse(stdout) as { records: Array<{ tool: string }> }).records.map((record) => record.tool);
        }, { timeout: 10_000, interval: 200 })
        .toContain('verify_email_start');
      const { stdout } = await run(process.execPath, [cli, 'audit', 'verify', '--demo'], { env: cleanEnv() });
      expect(stdout).toMatch(/^OK: \d+ records/);
    });
  });
});
