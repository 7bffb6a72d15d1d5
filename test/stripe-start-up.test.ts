import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { CLI_PATH, cleanEnv, runCli } from './support/cli.js';
import { findFreePort } from './support/redis-server.js';

/**
 * What `serve` and `doctor` say about the Stripe key when Stripe refuses it (revoked) or
 * cannot be reached: one line at start-up, and a fix that names the key.
 */
const fake = new FakeStripe({ now: 1_790_000_000 });
let served: Awaited<ReturnType<typeof serveFakeStripe>>;
beforeAll(async () => {
  served = await serveFakeStripe(fake, { port: 0 });
});
afterAll(() => served?.close());

let keys = 0;
const newKey = () => `rk_test_fake_start_up_${String(++keys).padStart(4, '0')}_0000000000`;

/** `serve`'s log from start until it listens and the start-up probe has been told (a moment after). */
async function serveLog(env: Record<string, string>): Promise<string[]> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve'], { env: cleanEnv({ PORT: '0', HOST_KEYS: 'bot:host_key_for_start_up_tests_00000000', ...env }), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${log}`)), 20_000);
      const check = () => {
        if (log.includes('serving HTTP')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr.on('data', check);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));
  }
  return log.split('\n').filter(Boolean);
}

const warnings = (lines: string[]) => lines.filter((line) => line.includes('"level":"warn"'));

describe('serve at start-up with a Stripe that does not take the key', () => {
  it('a revoked key: one warning naming the key and the fix, not one per tool', async () => {
    const key = newKey();
    fake.revokeKey(key);
    const lines = await serveLog({ STRIPE_API_KEY: key, STRIPE_API_BASE: served.url });
    const stripe = warnings(lines).filter((line) => /Stripe|tools\/list/.test(line));
    expect(stripe, lines.join('\n')).toHaveLength(1);
    expect(stripe[0]).toContain('Stripe refused the API key (rk_test_…0000): it is revoked, rolled or mistyped.');
    expect(stripe[0]).toMatch(/The \d+ tools that read Stripe are left out of tools\/list until STRIPE_API_KEY holds a working key/);
    expect(lines.filter((line) => line.includes('tool left out of tools/list'))).toEqual([]);
    expect(lines.join('\n')).not.toContain(key.slice(8, -4));
  });

  it('an unreachable Stripe: one warning saying so (there was none)', async () => {
    const closed = await findFreePort();
    const lines = await serveLog({ STRIPE_API_KEY: newKey(), STRIPE_API_BASE: `http://127.0.0.1:${closed}` });
    const stripe = warnings(lines).filter((line) => /Stripe/.test(line));
    expect(stripe, lines.join('\n')).toHaveLength(1);
    expect(stripe[0]).toMatch(/Stripe (could not be checked|has not answered the start-up check)/);
    expect(stripe[0]).toContain('every tool stays listed');
    expect(stripe[0]).toContain('STRIPE_API_BASE');
  }, 30_000);
});

describe('doctor with a revoked key', () => {
  it('the billing-portal row names the key as the fix, not the portal', async () => {
    const key = newKey();
    fake.revokeKey(key);
    const run = await runCli(['doctor', '--json'], { STRIPE_API_KEY: key, STRIPE_API_BASE: served.url, LOG_LEVEL: 'silent' });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { checks: Array<{ id: string; detail: string; fix?: string }> };
    const portal = report.checks.find((check) => check.id === 'billing_portal')!;
    expect(portal.detail).toContain('Stripe refused the key');
    expect(portal.fix).toContain('set STRIPE_API_KEY');
    expect(portal.fix).not.toMatch(/once Stripe answers|portal settings/);
  });
});

describe('a key pasted with spaces around it', () => {
  it('works, and start-up and doctor say to remove the spaces without showing the key', async () => {
    const key = newKey();
    const run = await runCli(['doctor'], { STRIPE_API_KEY: `  ${key} \n`, STRIPE_API_BASE: served.url, LOG_LEVEL: 'warn' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain('STRIPE_API_KEY has spaces or a line break before or after the key');
    expect(run.stdout).toMatch(/!  Stripe key .*the key has spaces or a line break around it \(ignored\)/);
    expect(run.stdout + run.stderr).not.toContain(key.slice(8, -4));
  });

  it('a space inside the key is refused, saying so', async () => {
    const run = await runCli(['doctor'], { STRIPE_API_KEY: 'rk_test_fake_start_up_split across_lines_00', LOG_LEVEL: 'silent' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('STRIPE_API_KEY has a space or line break inside the key');
    expect(run.stderr).not.toContain('split across');
  });
});
