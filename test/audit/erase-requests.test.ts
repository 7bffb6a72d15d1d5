/**
 * `audit erase --email` reaches the person's action requests (src/actions/erase-requests.ts):
 * their email and customer id leave every request of theirs — found by email in any case, or by
 * a customer id the erasure resolved — and the files on disk; the waiting ones are canceled
 * first, so nothing can confirm or approve them later; one being carried out at Stripe is left
 * to finish and the command says to run again. Someone else's requests stay as they were.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmationKeysFrom } from '../../src/actions/confirmation-secret.js';
import { RequestStore, type ActionRequest, type NewRequest } from '../../src/actions/requests.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { openStoreAsCli, sampleEntry, tempDirAfterAll, TEST_AUDIT_KEY } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { usePostgresServer } from '../support/postgres-server.js';

const tempDir = tempDirAfterAll('sbm-erase-requests-');
const postgres = usePostgresServer();

const CAROL = { email: DEMO.emails.carol, customer: DEMO.customers.carol };
const BOB = { email: DEMO.emails.bob, customer: DEMO.customers.bob };
/** A second customer of Carol's that only her trail records name (a staff look-up). */
const CAROL_OTHER = 'cus_CarolSecondAccount';

function request(who: { email: string | null; customer: string }, overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    tenant_id: null,
    kind: 'refund',
    customer_id: who.customer,
    email: who.email,
    principal: 'customer',
    created_by: 'host:acme-bot',
    conversation: 'conv-1',
    params: { charge: 'ch_1', amount: 1500, currency: 'usd', reason: 'duplicate', receipt_email: who.email },
    preview: { text: `Refund $15.00 to the card of ${who.email ?? who.customer}, receipt to ${who.email ?? 'nobody'}.` },
    ...overrides,
  };
}

type Kind = 'sqlite' | 'postgres';

describe.each<Kind>(['sqlite', 'postgres'])('audit erase and action requests (%s)', (kind) => {
  const opened: AuditStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function setUp() {
    const dir = tempDir();
    const env: Record<string, string> = kind === 'sqlite' ? { AUDIT_DB: join(dir, 'audit.db'), AUDIT_KEY: TEST_AUDIT_KEY } : { DATABASE_URL: await postgres().createDatabase(), AUDIT_KEY: TEST_AUDIT_KEY };
    const store = await openStoreAsCli(env);
    opened.push(store);
    await store.migrate();
    const requests = new RequestStore(store.sql, { keys: confirmationKeysFrom(store.auditKeys) });
    const rows = async (): Promise<Array<Record<string, unknown>>> => store.sql.all('SELECT * FROM action_requests ORDER BY id');
    return { dir, env, store, requests, rows };
  }

  /** How often `needle` occurs in the SQLite database's files (main, -wal, -shm). */
  function onDisk(dir: string, needle: string): number {
    let count = 0;
    for (const name of readdirSync(dir).filter((file) => file.startsWith('audit.db'))) {
      const bytes = readFileSync(join(dir, name));
      for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) count += 1;
    }
    return count;
  }

  it("blanks every request of hers (waiting ones canceled first), leaves Bob's alone, and the chain verifies", async () => {
    const { dir, env, store, requests, rows } = await setUp();
    // Carol's trail: a call as herself, and a staff look-up of her second customer.
    await store.append([sampleEntry({ email: CAROL.email, customer_ids: [CAROL.customer, CAROL_OTHER] }), sampleEntry({ email: BOB.email, customer_ids: [BOB.customer] })]);

    // Carol: one carried out, one waiting for her click, one waiting for a staff approval with a note naming her,
    // one made with her email in capitals, one made by staff with only her second customer id.
    const done = await requests.create(request(CAROL));
    const executed = await requests.confirm(done.request.id, done.secret, { channel: 'email', route: () => 'execute' });
    await requests.finish(executed.outcome === 'confirmed' ? executed.claim! : (undefined as never), { stripe_object_id: 're_carol1' });
    const waiting = await requests.create(request(CAROL, { kind: 'credit', params: { amount: 500, currency: 'usd', reason: 'outage' } }));
    const approval = await requests.create(request(CAROL));
    await requests.confirm(approval.request.id, approval.secret, { channel: 'host', route: () => 'approval' });
    const capitals = await requests.create(request({ email: CAROL.email.toUpperCase(), customer: CAROL.customer }));
    const byStaff = await requests.createByStaff(request({ email: null, customer: CAROL_OTHER }, { created_by: 'staff:alice' }), 'approval');
    await requests.deny(byStaff.request.id, 'staff:bert', `asked by ${CAROL.email} twice`);
    // Bob: one waiting, one done.
    const bobWaiting = await requests.create(request(BOB));
    const bobDone = await requests.create(request(BOB));
    const bobClaim = await requests.confirm(bobDone.request.id, bobDone.secret, { channel: 'email', route: () => 'execute' });
    await requests.finish(bobClaim.outcome === 'confirmed' ? bobClaim.claim! : (undefined as never), { stripe_object_id: 're_bob1' });
    const bobBefore = (await rows()).filter((row) => row.email === BOB.email);
    expect(bobBefore).toHaveLength(2);
    const carolIds = [done, waiting, approval, capitals, byStaff].map((made) => made.request.id);
    if (kind === 'sqlite') expect(onDisk(dir, CAROL.email), 'the scan reads the real data').toBeGreaterThan(0);

    const erase = await runCli(['audit', 'erase', '--email', `  ${CAROL.email.toUpperCase()} `], env);
    expect(erase.code, erase.stderr).toBe(0);
    expect(erase.stdout).toContain('1 records and 5 action requests (3 waiting ones canceled first)');

    const after = await rows();
    const carols = after.filter((row) => carolIds.includes(String(row.id)));
    expect(carols).toHaveLength(5);
    for (const row of carols) expect(row, `request ${String(row.id)}`).toMatchObject({ email: null, customer_id: '', preview: JSON.stringify({ erased: true }) });
    const carolText = JSON.stringify(carols);
    for (const needle of [CAROL.email, CAROL.email.toUpperCase(), CAROL.customer, CAROL_OTHER]) expect(carolText).not.toContain(needle);
    // What stays is the merchant's bookkeeping: amounts, charge, the refund's id, the states.
    const byId = new Map(after.map((row) => [String(row.id), row]));
    expect(JSON.parse(String(byId.get(done.request.id)!.params))).toEqual({ charge: 'ch_1', amount: 1500, currency: 'usd', reason: 'duplicate' });
    expect(byId.get(done.request.id)).toMatchObject({ state: 'done', stripe_object_id: 're_carol1' });
    expect(byId.get(byStaff.request.id)).toMatchObject({ state: 'denied', decided_by: 'staff:bert', note: 'asked by [erased] twice' });
    for (const id of [waiting.request.id, approval.request.id, capitals.request.id]) expect(byId.get(id), id).toMatchObject({ state: 'canceled', decided_by: 'erasure' });

    // A canceled request cannot be confirmed any more: her old link does nothing.
    expect((await requests.confirm(waiting.request.id, waiting.secret, { channel: 'email', route: () => 'execute' })).outcome).toBe('already_decided');
    expect(await requests.approve(approval.request.id, 'staff:bert')).toMatchObject({ outcome: 'not_allowed' });

    // Bob's requests are exactly as they were, and still his.
    expect(after.filter((row) => row.email === BOB.email)).toEqual(bobBefore);
    expect((await requests.listForCustomer(null, BOB.customer)).map((row: ActionRequest) => row.id).sort()).toEqual([bobWaiting.request.id, bobDone.request.id].sort());
    expect(await requests.listForCustomer(null, CAROL.customer)).toEqual([]);

    // The trail's note says how many requests, and which it canceled (ids name no one); the chain holds.
    const list = await runCli(['audit', 'verify'], env);
    expect(list.code, list.stdout + list.stderr).toBe(0);
    const note = (await store.find({ limit: 10 })).find((row) => row.kind === 'erasure');
    expect(note?.detail).toMatchObject({ records: 1, requests: 5 });
    expect([...((note?.detail?.canceled_requests as string[]) ?? [])].sort()).toEqual([waiting.request.id, approval.request.id, capitals.request.id].sort());

    if (kind === 'sqlite') {
      // No byte of hers is left in the files, while the store is open and after it closes.
      for (const needle of [CAROL.email, CAROL.email.toUpperCase(), CAROL.customer, CAROL_OTHER]) expect(onDisk(dir, needle), needle).toBe(0);
      expect(onDisk(dir, BOB.email)).toBeGreaterThan(0);
      await store.close();
      for (const needle of [CAROL.email, CAROL.email.toUpperCase(), CAROL.customer, CAROL_OTHER]) expect(onDisk(dir, needle), `${needle}, closed`).toBe(0);
    } else {
      // The requests' old row versions (the email and all) were vacuumed away before erase returned.
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      try {
        await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
        expect(Number((await client.query<{ n: string }>(`SELECT dead_tuple_count AS n FROM pgstattuple('action_requests')`)).rows[0]!.n)).toBe(0);
        expect(JSON.stringify((await client.query('SELECT * FROM action_requests')).rows)).not.toContain(CAROL.email);
      } finally {
        await client.end();
      }
    }

    // Running it again finds nothing more.
    const again = await runCli(['audit', 'erase', '--email', CAROL.email, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ erased: 0, requests: 0, canceled_requests: [], requests_in_flight: [] });
  }, 60_000);

  it('leaves a request being carried out at Stripe to finish, says so, and blanks it when run again', async () => {
    const { env, requests, rows } = await setUp();
    const made = await requests.create(request(CAROL, { kind: 'credit', params: { amount: 500, currency: 'usd', reason: 'outage' } }));
    const confirmed = await requests.confirm(made.request.id, made.secret, { channel: 'email', route: () => 'execute' });
    if (confirmed.outcome !== 'confirmed' || !confirmed.claim) throw new Error('expected a claim');

    const first = await runCli(['audit', 'erase', '--email', CAROL.email], env);
    expect(first.code, 'the erasure is not complete yet').toBe(1);
    expect(first.stdout).toContain(`being carried out at Stripe right now (${made.request.id})`);
    expect(first.stdout).toContain('Run this command again');
    // The executor still has what it needs (a balance credit names the customer) and records its outcome.
    expect((await rows())[0]).toMatchObject({ state: 'executing', email: CAROL.email, customer_id: CAROL.customer });
    expect(await requests.finish(confirmed.claim, { stripe_object_id: 'cbtxn_1' })).toMatchObject({ state: 'done' });

    const second = await runCli(['audit', 'erase', '--email', CAROL.email, '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ requests: 1, requests_in_flight: [] });
    expect((await rows())[0]).toMatchObject({ state: 'done', email: null, customer_id: '', stripe_object_id: 'cbtxn_1' });
  }, 60_000);
});
