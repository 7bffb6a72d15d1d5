import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import type { AuditTrail } from '../../src/audit/audit-trail.js';
import { conversationHash } from '../../src/audit/call-entry.js';
import type { AuditRow } from '../../src/audit/record.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { openTestStore, tempDirAfterAll, testTrail } from '../support/audit.js';
import { HOST_A, IDENTITY_SECRET, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from '../support/http-harness.js';
import { connectClient, structured } from '../support/mcp-harness.js';
import { panelSignIn } from '../support/panel.js';

/**
 * One record per call on every surface, taken where the result is produced: who asked, how
 * their email was verified, what categories were shown, which records were touched.
 */
const tempDir = tempDirAfterAll();
let store: AuditStore;
let trail: AuditTrail;
let fx: HttpFixture;
const ALICE_RECORDS = [DEMO.customers.alice, DEMO.customers.aliceUppercase];

beforeAll(async () => {
  store = await openTestStore('sqlite', { dir: tempDir() });
  trail = await testTrail(store);
  fx = await startHttpFixture({ IDENTITY_ISSUER: 'https://app.example.test' }, { audit: trail });
});

afterAll(async () => {
  await fx.close();
  await trail.close();
});

/** The newest record written after `since` (a seq), once the trail has written it. */
async function recordsAfter(since: number): Promise<AuditRow[]> {
  await trail.flush();
  return (await store.page(since, 1000)).filter((row) => row.kind === 'call');
}

async function lastSeq(): Promise<number> {
  await trail.flush();
  const [newest] = await store.find({ limit: 1 });
  return newest?.seq ?? 0;
}

function tokenWithIssuer(email: string): Promise<string> {
  return new SignJWT({ email })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://app.example.test')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(IDENTITY_SECRET));
}

async function postTool(tool: string, headers: Record<string, string>, body: unknown = {}) {
  const response = await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('one record per call', () => {
  it('/v1/tools with an identity token: the issuer who vouched, the categories shown, both of alice’s records', async () => {
    const since = await lastSeq();
    const answer = await postTool('get_billing_info', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await tokenWithIssuer(DEMO.emails.alice), 'x-conversation-id': 'chat-token-1' });
    expect(answer.body.is_error).toBe(false);
    const [record] = await recordsAfter(since);
    expect(record).toMatchObject({
      surface: 'tools',
      caller: 'host:host-a',
      principal: 'customer',
      verified_by: 'identity-token',
      issuer: 'https://app.example.test',
      unverified: false,
      tool: 'get_billing_info',
      outcome: 'ok',
      email: DEMO.emails.alice,
      write: null,
    });
    expect(record!.disclosed).toEqual(expect.arrayContaining(['payment_method.last4', 'billing_address']));
    expect([...record!.customer_ids].sort()).toEqual([...ALICE_RECORDS].sort());
    // The conversation is kept only as a hash of the server's key for it.
    expect(record!.conversation).toBe(conversationHash('host:host-a:chat-token-1'));
    expect(JSON.stringify(record)).not.toContain('chat-token-1');
  });

  it('/mcp after an emailed code: verified by email-code, in the hashed conversation', async () => {
    await verifyConversationByCode(fx, HOST_A, 'chat-code-1', DEMO.emails.alice);
    const since = await lastSeq();
    const client = new Client({ name: 'audit-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'chat-code-1' } } }));
    try {
      const result = await client.callTool({ name: 'get_invoice_history', arguments: {} });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const [record] = await recordsAfter(since);
    expect(record).toMatchObject({ surface: 'mcp', verified_by: 'email-code', issuer: null, tool: 'get_invoice_history', outcome: 'ok', disclosed: ['invoices'], email: DEMO.emails.alice });
    expect(record!.conversation).toBe(conversationHash('host:host-a:chat-code-1'));
  });

  it('records the verification itself: code sent, then email verified', async () => {
    const since = await lastSeq();
    await verifyConversationByCode(fx, HOST_A, 'chat-code-2', DEMO.emails.bob);
    const records = await recordsAfter(since);
    expect(records.map((record) => [record.tool, record.outcome, record.write])).toEqual([
      ['verify_email_start', 'ok', 'verification_code_sent'],
      ['verify_email_confirm', 'ok', 'email_verified'],
    ]);
    // Whose email the visitor asked to prove, and then proved: what a takeover investigation needs.
    expect(records.map((record) => [record.principal, record.email])).toEqual([
      ['unverified', DEMO.emails.bob],
      ['unverified', DEMO.emails.bob],
    ]);
  });

  it('an unverified visitor asking for billing data: refused, nothing disclosed, nobody touched', async () => {
    const since = await lastSeq();
    const answer = await postTool('get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'chat-stranger' });
    expect(answer.body.is_error).toBe(true);
    const [record] = await recordsAfter(since);
    expect(record).toMatchObject({ principal: 'unverified', outcome: 'refused', reason: 'not_verified', disclosed: [], email: null, customer_ids: [] });
  });

  it('staff over /v1/tools: the staff key by name and the customer they chose', async () => {
    const since = await lastSeq();
    const answer = await postTool('get_credit_balance', { authorization: `Bearer ${STAFF}` }, { email: DEMO.emails.carol });
    expect(answer.body.is_error).toBe(false);
    const [record] = await recordsAfter(since);
    expect(record).toMatchObject({ surface: 'tools', caller: 'staff:support', principal: 'staff', verified_by: null, outcome: 'ok', disclosed: ['credit_balance'], email: DEMO.emails.carol });
    expect(record!.customer_ids).toEqual([DEMO.customers.carol]);
  });

  it('writes are recorded as what they did, never the link itself', async () => {
    const since = await lastSeq();
    const token = await tokenWithIssuer(DEMO.emails.alice);
    const link = await postTool('get_billing_portal_link', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
    expect(link.body.is_error).toBe(false);
    const url = String((link.body.result as { url: string }).url);
    const coupon = await postTool('apply_coupon', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token }, { code: 'WELCOME20' });
    expect(coupon.body.is_error).toBe(false);
    const records = await recordsAfter(since);
    expect(records.map((record) => [record.tool, record.write, record.disclosed])).toEqual([
      ['get_billing_portal_link', 'portal_session', ['billing_portal_link']],
      ['apply_coupon', 'coupon_applied', ['discount']],
    ]);
    expect(JSON.stringify(records)).not.toContain(url);
    expect(JSON.stringify(records)).not.toContain('WELCOME20');
  });

  it('/v1/insight and the panel: staff look-ups, with the sections that loaded', async () => {
    const since = await lastSeq();
    const insight = await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${STAFF}` } });
    expect(insight.status).toBe(200);
    const cookie = await panelSignIn(fx.url, STAFF);
    const card = await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } });
    expect(card.status).toBe(200);
    const records = await recordsAfter(since);
    expect(records.map((record) => [record.surface, record.tool, record.caller, record.outcome])).toEqual([
      ['insight', 'customer_insight', 'staff:support', 'ok'],
      ['panel', 'customer_insight', 'staff:support', 'ok'],
    ]);
    expect(records[0]!.disclosed).toEqual(expect.arrayContaining(['customer_record', 'subscription', 'invoices', 'payment_method.last4', 'credit_balance']));
  });

  it('stdio: the desktop surface, one conversation per process', async () => {
    const runtime = fx.runtime;
    const since = await lastSeq();
    const client = await connectClient({ customer: DEMO.emails.alice }, { runtime, conversation: 'stdio:1234' });
    try {
      structured(await client.call('get_upcoming_invoice'));
    } finally {
      await client.close();
    }
    const [record] = await recordsAfter(since);
    expect(record).toMatchObject({ surface: 'stdio', tool: 'get_upcoming_invoice', outcome: 'ok', email: DEMO.emails.alice, conversation: conversationHash('stdio:1234') });
  });

  it('trust-email answers are flagged unverified in the trail too', async () => {
    const looseStore = await openTestStore('sqlite', { dir: tempDir() });
    const loose = await testTrail(looseStore);
    const trusting = await startHttpFixture({ VERIFY_MODE: 'trust-email' }, { audit: loose });
    try {
      const headers = { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'chat-trust' };
      const start = await fetch(`${trusting.url}/v1/tools/verify_email_start`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ email: DEMO.emails.alice }) });
      expect(start.status).toBe(200);
      const answer = await fetch(`${trusting.url}/v1/tools/get_credit_balance`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
      expect(((await answer.json()) as { is_error: boolean }).is_error).toBe(false);
      await loose.flush();
      const [record] = await looseStore.find({ email: DEMO.emails.alice, limit: 1 });
      expect(record).toMatchObject({ tool: 'get_credit_balance', verified_by: 'trust-email', unverified: true });
    } finally {
      await trusting.close();
      await loose.close();
    }
  });
});

describe('reading the trail', () => {
  it('GET /v1/audit: staff keys only, filtered by email', async () => {
    const host = await fetch(`${fx.url}/v1/audit?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${HOST_A}` } });
    expect(host.status).toBe(403);
    const bad = await fetch(`${fx.url}/v1/audit?email=not-an-email`, { headers: { authorization: `Bearer ${STAFF}` } });
    expect(bad.status).toBe(400);
    await trail.flush();
    const answer = await fetch(`${fx.url}/v1/audit?email=${DEMO.emails.alice}&limit=5`, { headers: { authorization: `Bearer ${STAFF}` } });
    expect(answer.status).toBe(200);
    const { records } = (await answer.json()) as { records: Array<Record<string, unknown>> };
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThanOrEqual(5);
    for (const record of records) {
      expect(record.email).toBe(DEMO.emails.alice);
      // The chain's own fields and the salt stay in the database.
      expect(record).not.toHaveProperty('salt');
      expect(record).not.toHaveProperty('hash');
    }
    const byConversation = await fetch(`${fx.url}/v1/audit?host=host-a&conversation=chat-code-1`, { headers: { authorization: `Bearer ${STAFF}` } });
    const found = ((await byConversation.json()) as { records: Array<{ tool: string }> }).records;
    expect(found.map((record) => record.tool)).toContain('get_invoice_history');
  });

  it("the panel shows 'What the assistant showed' for the customer looked up", async () => {
    await trail.flush();
    const cookie = await panelSignIn(fx.url, STAFF);
    const html = await (await fetch(`${fx.url}/panel/card?email=${DEMO.emails.alice}`, { headers: { cookie } })).text();
    expect(html).toContain('What the assistant showed');
    const rows = html.match(/data-testid="disclosure"/g) ?? [];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(20);
    expect(html).toContain('Identity token from https://app.example.test');
    expect(html).toContain('Emailed code');
    // Staff look-ups are not the assistant's disclosures.
    expect(html).not.toMatch(/data-testid="disclosure"[^]*?customer_insight/);
  });
});
