import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { conversationHash } from '../../src/audit/call-entry.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import type { AuditEntry } from '../../src/audit/record.js';
import { openStoreAsCli, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, tempDirAfterAll, sampleEntry } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { usePostgresServer } from '../support/postgres-server.js';

const tempDir = tempDirAfterAll('sbm-audit-cli-');

const entry = sampleEntry;

/** Ana's three call records (#1, #3, #4), Ben's (#2) and a staff look-up of Ana's customer (#5). */
const TRAIL: AuditEntry[] = [
  entry({ at: '2026-03-01T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1'], conversation: conversationHash('host:acme-bot:conv-1') }),
  entry({ at: '2026-03-01T10:00:00.000Z', email: 'ben@example.com', customer_ids: ['cus_Ben1'], tool: 'list_invoices', disclosed: ['invoices'] }),
  entry({ at: '2026-03-02T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1'], tool: 'get_billing_info', disclosed: ['payment_method.brand', 'payment_method.last4'] }),
  entry({ at: '2026-03-03T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1'], outcome: 'refused', reason: 'not_verified', disclosed: [] }),
  entry({ at: '2026-03-03T10:00:00.000Z', surface: 'panel', principal: 'staff', verified_by: null, issuer: null, caller: 'panel:alice', customer_ids: ['cus_Ana1'] }),
];

/** A SQLite trail file holding TRAIL, its store closed (the CLI opens it on its own). */
async function preparedFile(): Promise<string> {
  const file = join(tempDir(), 'audit.db');
  // Linked under the key the CLI finds for this file (generated beside it), as `serve` would.
  const store = await openStoreAsCli({ AUDIT_DB: file });
  try {
    await store.migrate();
    await store.append(TRAIL);
  } finally {
    await store.close();
  }
  return file;
}

const audit = (file: string, ...args: string[]) => runCli(['audit', ...args], { AUDIT_DB: file });

const CHAIN_FIELDS = ['salt', 'commitment', 'prev_hash', 'hash'];

describe('stripe-billing-mcp audit (SQLite)', () => {
  it("lists a person's records, newest first, as text and as JSON", async () => {
    const file = await preparedFile();
    const [text, json, byCustomer, since, conversation] = await Promise.all([
      audit(file, '--email', 'Ana@Example.com'),
      audit(file, '--email', 'ana@example.com', '--json'),
      audit(file, '--customer', 'cus_Ben1'),
      audit(file, '--since', '2026-03-03', '--json'),
      audit(file, '--host', 'acme-bot', '--conversation', 'conv-1', '--json'),
    ]);

    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(['#4', '#3', '#1']);
    expect(lines[1]).toContain('get_billing_info');
    expect(lines[1]).toContain('payment_method.last4');
    expect(lines[0]).toContain('refused: not_verified');
    expect(text.stdout).not.toContain('ben@example.com');

    expect(json.code, json.stderr).toBe(0);
    const { records } = JSON.parse(json.stdout) as { records: Array<Record<string, unknown>> };
    expect(records.map((record) => record.seq)).toEqual([4, 3, 1]);
    expect(records[1]).toMatchObject({ email: 'ana@example.com', customer_ids: ['cus_Ana1'], tool: 'get_billing_info', surface: 'mcp' });
    for (const record of records) for (const field of CHAIN_FIELDS) expect(record).not.toHaveProperty(field);

    expect(byCustomer.code, byCustomer.stderr).toBe(0);
    expect(byCustomer.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['#2']);
    expect((JSON.parse(since.stdout) as { records: Array<{ seq: number }> }).records.map((record) => record.seq)).toEqual([5, 4]);
    expect((JSON.parse(conversation.stdout) as { records: Array<{ seq: number }> }).records.map((record) => record.seq)).toEqual([1]);
  });

  it('says when nothing matches', async () => {
    const file = await preparedFile();
    const run = await audit(file, '--email', 'nobody@example.com');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('No records match.\n');
  });

  it('verifies an intact trail, and names the record that was changed in the file', async () => {
    const file = await preparedFile();
    const intact = await audit(file, 'verify');
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^OK: 5 records/);

    const db = new Database(file);
    db.prepare(`UPDATE audit_records SET disclosed = '[]' WHERE seq = 3`).run();
    db.close();

    const broken = await audit(file, 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('#3');
    expect(broken.stdout).not.toMatch(/^OK/);
    const json = await audit(file, 'verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, broken: { seq: 3 } });
  });

  it("exports exactly one person's call records as JSON Lines, without the chain's fields", async () => {
    const file = await preparedFile();
    const run = await audit(file, 'export', '--jsonl', '--email', 'ana@example.com');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // Chain order, and every one of Ana's call records, the refused one included.
    expect(records.map((record) => record.seq)).toEqual([1, 3, 4]);
    for (const record of records) {
      expect(record.email).toBe('ana@example.com');
      for (const field of CHAIN_FIELDS) expect(record).not.toHaveProperty(field);
    }
  });

  it('erases a person so that verify still passes and a search for them finds nothing', async () => {
    const file = await preparedFile();
    const erase = await audit(file, 'erase', '--email', 'ana@example.com');
    expect(erase.code, erase.stderr).toBe(0);
    // Ana's three records and the staff look-up of her customer.
    expect(erase.stdout).toContain('4 records');

    const [verify, list, exported, ben] = await Promise.all([
      audit(file, 'verify'),
      audit(file, '--email', 'ana@example.com'),
      audit(file, 'export', '--jsonl', '--email', 'ana@example.com'),
      audit(file, '--email', 'ben@example.com', '--json'),
    ]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/^OK: 6 records/);
    expect(list.stdout).toBe('No records match.\n');
    expect(exported.stdout).toBe('');
    expect((JSON.parse(ben.stdout) as { records: unknown[] }).records).toHaveLength(1);

    const db = new Database(file, { readonly: true });
    const table = JSON.stringify(db.prepare('SELECT * FROM audit_records').all());
    db.close();
    expect(table).not.toContain('ana@example.com');
  });

  const badUses: Array<[string, string[], RegExp]> = [
    ['an email that is not one', ['--email', 'notanemail'], /--email must be an email address/],
    ['a time that is not one', ['--since', 'yesterdayish'], /--since must be a date.*yesterdayish/],
    ['a zero limit', ['--limit', '0'], /--limit must be a whole number from 1 to 10000/],
    ['export without --jsonl', ['export'], /add --jsonl/],
    ['an unknown action', ['frobnicate'], /Unknown audit action "frobnicate"/],
    ['erase without an email', ['erase'], /audit erase needs --email/],
    ['a host without its conversation', ['--host', 'acme-bot'], /--host and --conversation go together/],
  ];

  it.each(badUses)('refuses %s with exit code 2 and says why', async (_what, args, message) => {
    const file = await preparedFile();
    const run = await audit(file, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('refuses to run with the trail turned off', async () => {
    const file = await preparedFile();
    const run = await runCli(['audit', '--email', 'ana@example.com'], { AUDIT: 'off', AUDIT_DB: file });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/audit trail is off \(AUDIT=off\)/);
    expect(run.stdout).toBe('');
  });
});

describe('stripe-billing-mcp audit (Postgres)', () => {
  const postgres = usePostgresServer();

  it('lists and verifies the trail in DATABASE_URL', async () => {
    const url = await postgres().createDatabase();
    const store = new PostgresAuditStore(url, TEST_AUDIT_KEYS);
    try {
      await store.migrate();
      await store.append(TRAIL);
    } finally {
      await store.close();
    }

    const [list, verify] = await Promise.all([
      runCli(['audit', '--email', 'ana@example.com', '--json'], { DATABASE_URL: url, AUDIT_KEY: TEST_AUDIT_KEY }),
      runCli(['audit', 'verify'], { DATABASE_URL: url, AUDIT_KEY: TEST_AUDIT_KEY }),
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { records: Array<{ seq: number }> }).records.map((record) => record.seq)).toEqual([4, 3, 1]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: 5 records/);
  });
});
