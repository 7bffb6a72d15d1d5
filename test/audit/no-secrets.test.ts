import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { ALL_TOOLS as REGISTERED_TOOLS } from '../../src/tools/registry.js';
import { TEST_AUDIT_KEYS, tempDirAfterAll, testTrail } from '../support/audit.js';
import { HOST_A, HOST_B, IDENTITY_SECRET, STAFF, startHttpFixture, verifyConversationByCode } from '../support/http-harness.js';
import { TEST_STRIPE_KEY } from '../support/mcp-harness.js';
import { usePostgresServer } from '../support/postgres-server.js';
import { sampleArgs } from '../support/tool-args.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const ALL_TOOLS = REGISTERED_TOOLS.filter((tool) => tool.action === undefined);

/**
 * After every tool has run on every path (customer by token, customer by emailed code, staff,
 * refusals, an attempt to name someone else), the trail's database holds none of: the Stripe
 * key, bearer keys, identity tokens, codes, raw conversation ids, link URLs, card numbers, the
 * chain's own key.
 */
const tempDir = tempDirAfterAll();
const postgres = usePostgresServer();

async function runEverything(store: AuditStore): Promise<string[]> {
  const trail = await testTrail(store);
  const fx = await startHttpFixture({}, { audit: trail });
  const secrets = [TEST_STRIPE_KEY, HOST_A, HOST_B, STAFF, IDENTITY_SECRET, '4242424242424242', DEMO.secrets.aliceCardFingerprint];
  // The keys the chain is linked under are never in the database they protect.
  secrets.push(...store.auditKeys.keys.flatMap(({ key }) => [key.toString('base64'), key.toString('hex')]));
  try {
    const token = await fx.token(DEMO.emails.alice);
    secrets.push(token, 'chat-secret-conversation-1', 'chat-secret-conversation-2');
    const call = async (tool: string, headers: Record<string, string>, body: Record<string, unknown>) => {
      const response = await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const text = await response.text();
      // Whatever a call answered with (links, invoice URLs) must not be in the trail either.
      for (const url of text.match(/https?:\/\/[^"\\\s]+/g) ?? []) secrets.push(url);
      return text;
    };
    const byToken = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token, 'x-conversation-id': 'chat-secret-conversation-1' };
    await verifyConversationByCode(fx, HOST_A, 'chat-secret-conversation-2', DEMO.emails.carol);
    secrets.push(...fx.mailer.messages.map((message) => message.code));
    const byCode = { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'chat-secret-conversation-2' };
    for (const tool of ALL_TOOLS) {
      await call(tool.name, byToken, sampleArgs(tool.name));
      await call(tool.name, byCode, sampleArgs(tool.name));
      await call(tool.name, { authorization: `Bearer ${STAFF}` }, sampleArgs(tool.name, { staff: true }));
      // The model naming someone else, and a visitor nobody verified.
      await call(tool.name, byToken, { ...sampleArgs(tool.name), email: DEMO.emails.bob, customer_id: DEMO.customers.bob });
      await call(tool.name, { authorization: `Bearer ${HOST_B}`, 'x-conversation-id': 'chat-secret-conversation-1' }, sampleArgs(tool.name));
    }
    await call('verify_email_confirm', byCode, { code: '000000' });
    await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${STAFF}` } });
    await trail.flush();
    expect(trail.status()).toMatchObject({ state: 'ok', lost: 0 });
    expect(trail.status().written).toBeGreaterThan(ALL_TOOLS.length * 5);
  } finally {
    await fx.close();
    await trail.close();
  }
  return secrets.filter((secret) => secret.length >= 6);
}

function expectNoneIn(haystack: string, secrets: readonly string[]) {
  for (const secret of secrets) expect(haystack.includes(secret), `the trail holds ${secret.slice(0, 12)}…`).toBe(false);
}

describe('no secret in the trail after every tool ran', () => {
  it('SQLite: the database files themselves', async () => {
    const dir = tempDir();
    const secrets = await runEverything(new SqliteAuditStore(join(dir, 'audit.db'), TEST_AUDIT_KEYS));
    const files = readdirSync(dir).filter((name) => name.startsWith('audit.db'));
    expect(files).toContain('audit.db');
    const bytes = files.map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n');
    // The files do hold the records (the scan reads real data, not an empty file).
    expect(bytes).toContain(DEMO.emails.alice);
    expect(bytes).toContain('payment_method.last4');
    expectNoneIn(bytes, secrets);
  });

  it('Postgres: every row of every table', async () => {
    const url = await postgres().createDatabase();
    const secrets = await runEverything(new PostgresAuditStore(url, TEST_AUDIT_KEYS));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((row: { tablename: string }) => row.tablename);
      expect(tables).toContain('audit_records');
      let dump = '';
      for (const table of tables) dump += JSON.stringify((await client.query(`SELECT * FROM "${table}"`)).rows);
      expect(dump).toContain(DEMO.emails.alice);
      expectNoneIn(dump, secrets);
    } finally {
      await client.end();
    }
  });
});
