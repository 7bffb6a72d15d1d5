/**
 * Several `serve` processes, one Postgres (DATABASE_URL): every process appends to one hash
 * chain, so the trail an operator verifies and reads holds every call of every process, in one
 * contiguous sequence.
 */
import { expect, it } from 'vitest';
import { conversationHash } from '../../src/audit/call-entry.js';
import type { DisclosureView } from '../../src/audit/disclosures.js';
import type { ChainReport } from '../../src/audit/verify-chain.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, mintIdentityToken } from '../../src/demo/demo-identity.js';
import { runCli } from '../support/cli.js';
import { usePostgresServer } from '../support/postgres-server.js';
import { killedAfterEach, startServeDemo, type ServedProcess } from '../support/serve-process.js';

const postgres = usePostgresServer();

interface Served extends ServedProcess {
  name: string;
}

const started = killedAfterEach();

/** `serve --demo` on its own port, writing its trail to `databaseUrl`; resolves once its banner is out. */
async function serveDemo(name: string, databaseUrl: string): Promise<Served> {
  const served = { name, ...(await startServeDemo({ DATABASE_URL: databaseUrl })) };
  started.push(served);
  return served;
}

it('two serve processes on one DATABASE_URL write one chain that verifies and holds every call', async () => {
  const databaseUrl = await postgres().createDatabase();
  // Both start at once: both make the schema, under the chain lock.
  const [a, b] = await Promise.all([serveDemo('a', databaseUrl), serveDemo('b', databaseUrl)]);
  const token = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 600);
  const tools = ['get_subscription_status', 'get_invoice_history', 'get_billing_info'];
  const CALLS = 10;

  const call = async (served: Served, i: number) => {
    const response = await fetch(`${served.url}/v1/tools/${tools[i % tools.length]}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-customer-token': token, 'x-conversation-id': `${served.name}-${i}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await response.json()) as { is_error: boolean };
    expect(body.is_error, JSON.stringify(body)).toBe(false);
  };
  // Interleaved: a-0, b-0, a-1, b-1, … all in flight together.
  await Promise.all(Array.from({ length: CALLS }, (_, i) => [call(a, i), call(b, i)]).flat());

  // SIGTERM drains and flushes each process's trail before it exits.
  for (const served of [a, b]) served.child.kill('SIGTERM');
  expect(await a.exited, `${a.stdout()}\n${a.stderr()}`).toBe(0);
  expect(await b.exited, `${b.stdout()}\n${b.stderr()}`).toBe(0);

  const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
  const listed = await runCli(['audit', '--json', '--limit', '1000'], env);
  expect(listed.code, listed.stderr).toBe(0);
  const records = (JSON.parse(listed.stdout) as { records: DisclosureView[] }).records;

  // Every call of ours once, from both processes; anything else is a demo's own start-up self-check.
  const ours = new Map(['a', 'b'].flatMap((name) => Array.from({ length: CALLS }, (_, i) => [conversationHash(`host:demo-host:${name}-${i}`), `${name}-${i}`] as const)));
  const mine = records.filter((record) => record.conversation !== null && ours.has(record.conversation));
  expect(mine.map((record) => ours.get(record.conversation!)).sort()).toEqual([...ours.values()].sort());
  for (const record of mine) {
    expect(record).toMatchObject({ surface: 'tools', caller: 'host:demo-host', principal: 'customer', verified_by: 'identity-token', outcome: 'ok', email: DEMO_CUSTOMER_EMAIL });
    expect(tools).toContain(record.tool);
  }
  const others = records.filter((record) => !mine.includes(record));
  expect(others.length).toBeLessThanOrEqual(2);
  for (const record of others) expect(record).toMatchObject({ surface: 'tools', caller: 'host:demo-host', conversation: null, tool: 'get_subscription_status', outcome: 'ok' });

  // One chain: seq 1..n with no gap and no repeat, whichever process wrote each record.
  const seqs = records.map((record) => record.seq).sort((x, y) => x - y);
  expect(seqs).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));

  const verified = await runCli(['audit', 'verify', '--json'], env);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  expect(JSON.parse(verified.stdout) as ChainReport).toEqual({ ok: true, records: records.length, first_seq: 1, last_seq: records.length, anchored_by: null, unkeyed_through: null });
}, 60_000);
