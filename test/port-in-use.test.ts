import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { tempDirAfterAll } from './support/audit.js';
import { runCli } from './support/cli.js';

/**
 * `npm run demo` beside a demo that is still running used to die with "unexpected error:
 * listen EADDRINUSE". Every command that listens says which port is taken and which setting
 * picks another, and exits 1.
 */
const tempDir = tempDirAfterAll('sbm-port-in-use-');
let taken: Server;
let port: number;
let stripe: Awaited<ReturnType<typeof serveFakeStripe>>;

beforeAll(async () => {
  taken = createServer();
  port = await new Promise<number>((resolve, reject) => {
    taken.once('error', reject);
    taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port));
  });
  stripe = await serveFakeStripe(new FakeStripe({ now: 1_790_000_000 }), { port: 0 });
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await stripe?.close();
});

const expected = () => `Port ${port} on 127.0.0.1 is already in use (another stripe-billing-mcp?). Set PORT=… to use another port`;

describe('a port already in use', () => {
  it.each([
    ['serve --demo', ['serve', '--demo'], {}],
    ['serve', ['serve'], { STRIPE_API_KEY: 'rk_test_fake_port_in_use_0000000000', STRIPE_API_BASE: '' }],
    ['serve --platform', ['serve', '--platform'], { ADMIN_KEYS: 'ops:admin_secret_for_port_test_00000000000', TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 7).toString('base64')}` }],
  ])('%s says which port is taken and to set PORT, and exits 1', async (_name, args, env: Record<string, string>) => {
    const run = await runCli(args, { PORT: String(port), LOG_LEVEL: 'warn', AUDIT_DB: `${tempDir()}/audit.db`, ...env, ...(env.STRIPE_API_BASE === '' ? { STRIPE_API_BASE: stripe.url } : {}) }, 30_000);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(expected());
    expect(run.stderr).not.toContain('unexpected error');
    expect(run.stderr).not.toContain('EADDRINUSE');
  });
});
