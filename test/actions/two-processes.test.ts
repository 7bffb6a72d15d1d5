/**
 * Exactly once across processes: two `serve` processes of the built CLI share one real Postgres
 * (requests and the trail) and one fake Stripe served over loopback; the customer's confirmation
 * reaches both at the same instant, as a double click behind a load balancer would. One refund.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { serveFakeStripe } from '../../src/demo/serve-fake-stripe.js';
import { EXAMPLE_POLICY } from '../support/actions.js';
import { TEST_AUDIT_KEY } from '../support/audit.js';
import { usePostgresServer } from '../support/postgres-server.js';
import { startServer, stopProcess, type ServerProcess } from '../support/serve-process.js';

const postgres = usePostgresServer();
const HOST_KEY = 'two_process_host_key_000000000000000';
const IDENTITY_SECRET = 'two-process-identity-secret-32-bytes-long';

describe('two serve processes on one Postgres', () => {
  const fake = new FakeStripe({ now: Math.floor(Date.now() / 1000), actionFixtures: true });
  let stripe: Awaited<ReturnType<typeof serveFakeStripe>>;
  let servers: ServerProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbm-two-processes-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify(EXAMPLE_POLICY));
    stripe = await serveFakeStripe(fake);
    const env = {
      STRIPE_API_KEY: DEMO.apiKey,
      STRIPE_API_BASE: stripe.url,
      DATABASE_URL: await postgres().createDatabase(),
      AUDIT_KEY: TEST_AUDIT_KEY,
      ACTIONS_POLICY: policy,
      HOST_KEYS: `bot:${HOST_KEY}`,
      IDENTITY_SECRET,
    };
    servers = await Promise.all([startServer(env), startServer(env)]);
  }, 40_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => stopProcess(server.child)));
    await stripe?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a confirmation sent to both at once refunds once, and both then report the same outcome', async () => {
    const token = await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600);
    const headers = { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': token, 'content-type': 'application/json' };
    const proposed = await fetch(`${servers[0]!.url}/v1/tools/request_refund`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ payment: DEMO.actions.aliceDuplicateCharge, amount: null, reason: 'duplicate' }),
    }).then((response) => response.json() as Promise<{ is_error: boolean; result: { request: { id: string; state: string } }; confirmation: { request_id: string; token: string } }>);
    expect(proposed).toMatchObject({ is_error: false, result: { request: { state: 'awaiting_confirmation' } } });
    const { request_id: id, token: confirmation } = proposed.confirmation;

    const clicks = await Promise.all(
      [...servers, ...servers].map((server) =>
        fetch(`${server.url}/v1/requests/${id}/confirm`, { method: 'POST', headers, body: JSON.stringify({ token: confirmation }) }).then(async (response) => ({ status: response.status, body: (await response.json()) as { request?: { state: string } } })),
      ),
    );
    const statuses = clicks.map((click) => click.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    const refunds = fake.requests.filter((request) => request.method === 'POST' && request.path === '/v1/refunds');
    expect(refunds.filter((request) => request.status === 200)).toHaveLength(1);
    expect(new Set(refunds.map((request) => request.idempotencyKey))).toEqual(new Set([`sbm-${id}`]));

    for (const server of servers) {
      const status = await fetch(`${server.url}/v1/tools/get_request_status`, { method: 'POST', headers, body: JSON.stringify({ request: id }) }).then((response) => response.json() as Promise<{ result: { requests: Array<{ id: string; state: string }> } }>);
      expect(status.result.requests.find((request) => request.id === id)).toMatchObject({ state: 'done' });
    }
  });
});
