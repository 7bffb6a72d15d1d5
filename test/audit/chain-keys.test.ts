/**
 * The keyed chain as an operator meets it: the key generated once beside the trail and found by
 * every command, AUDIT_KEY and its rotation, trails written before the chain was keyed, and
 * checkpoints that `audit verify --anchors` holds the trail to.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { commitmentOf, GENESIS_HASH, unkeyedLinkOf } from '../../src/audit/chain.js';
import type { AuditRow } from '../../src/audit/record.js';
import { INSERT_COLUMNS, META_TABLE_SQL, MIGRATIONS, toColumns } from '../../src/audit/schema.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { auditCheck } from '../../src/doctor/audit-check.js';
import { openStoreAsCli, sampleEntry, staffLookUp, TEST_AUDIT_KEY, tempDirAfterAll } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { rewriteAndRelink } from '../support/forge-chain.js';
import { sqliteSql } from '../support/raw-sql.js';
import { testRuntime, testSettings } from '../support/mcp-harness.js';
import { killedAfterEach, startServeDemo } from '../support/serve-process.js';

const tempDir = tempDirAfterAll('sbm-chain-keys-');
const started = killedAfterEach();

const keyIds = (file: string) => sqliteSql(file)('SELECT key_id, count(*) AS n FROM audit_records GROUP BY key_id ORDER BY key_id');

async function appendFor(env: Record<string, string>, count: number, overrides = {}): Promise<void> {
  const store = await openStoreAsCli(env);
  try {
    await store.migrate();
    await store.append(Array.from({ length: count }, (_, i) => sampleEntry({ email: `p${i}@example.com`, customer_ids: [`cus_P${i}`], ...overrides })));
  } finally {
    await store.close();
  }
}

describe('the generated key', () => {
  it('serve makes it once, 0600, beside the trail; serve again, the audit command and erase all link and verify with it', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const keyFile = join(dir, 'audit.key');
    const first = await startServeDemo({ AUDIT_DB: file });
    started.push(first);
    await staffLookUp(first.url, DEMO.emails.carol);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain('generated the key that links the chain');

    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    expect(key).toMatch(/^a1:[A-Za-z0-9+/]{43}=\n$/);

    // A second start finds it (and says nothing about generating one).
    const second = await startServeDemo({ AUDIT_DB: file });
    started.push(second);
    await staffLookUp(second.url, DEMO.emails.carol);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stderr()).not.toContain('generated the key');
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    const erase = await runCli(['audit', 'erase', '--email', DEMO.emails.carol], { AUDIT_DB: file });
    expect(erase.code, erase.stderr).toBe(0);
    // Every record (the demo's self-checks, the look-ups, the erasure note) is linked under the one key.
    const ids = await keyIds(file);
    expect(ids).toHaveLength(1);
    expect(ids[0]!.key_id).toMatch(/^[0-9a-f]{16}$/);
    const verify = await runCli(['audit', 'verify', '--json'], { AUDIT_DB: file });
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, unkeyed_through: null });
    // The key is not in the database.
    const bytes = ['audit.db', 'audit.db-wal'].filter((name) => existsSync(join(dir, name))).map((name) => readFileSync(join(dir, name)).toString('latin1')).join('');
    expect(bytes).not.toContain(key.trim().slice(3));
  }, 60_000);

  it('the reading commands never make one: verify names the key a keyed record needs', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    await appendFor({ AUDIT_DB: file }, 2);
    const keyId = String((await keyIds(file))[0]!.key_id);
    // The key file is lost (a copy of the database alone, on another machine).
    const elsewhere = tempDir();
    const moved = join(elsewhere, 'audit.db');
    await sqliteSql(file)(`VACUUM INTO '${moved}'`);
    const verify = await runCli(['audit', 'verify'], { AUDIT_DB: moved });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`BROKEN at record #1: record 1 is linked under audit key ${keyId}, which is not among the keys held`);
    const list = await runCli(['audit', '--json'], { AUDIT_DB: moved });
    expect(list.code, list.stderr).toBe(0);
    expect(existsSync(join(elsewhere, 'audit.key'))).toBe(false);
  });
});

describe('AUDIT_KEY', () => {
  const keyA = `a1:${randomBytes(32).toString('base64')}`;
  const keyB = `a2:${randomBytes(32).toString('base64')}`;

  it('links under its first key, makes no key file, keeps verifying after a rotation, and names a key that left too early', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    await appendFor({ AUDIT_DB: file, AUDIT_KEY: keyA }, 2);
    expect(existsSync(join(dir, 'audit.key'))).toBe(false);
    // Rotation: the new key first, the old one kept for the records it linked.
    await appendFor({ AUDIT_DB: file, AUDIT_KEY: `${keyB},${keyA}` }, 2);
    expect((await keyIds(file)).map((row) => Number(row.n))).toEqual([2, 2]);
    const rotated = await runCli(['audit', 'verify'], { AUDIT_DB: file, AUDIT_KEY: `${keyB},${keyA}` });
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^OK: 4 records, 1…4, chain intact\.\n$/);

    const without = await runCli(['audit', 'verify'], { AUDIT_DB: file, AUDIT_KEY: keyB });
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/^BROKEN at record #1: record 1 is linked under audit key [0-9a-f]{16}, which is not among the keys held/);
    // Never a key, in any answer.
    for (const run of [rotated, without]) expect(run.stdout + run.stderr).not.toContain(keyA.slice(3));
  });

  it('a malformed value stops serve and the audit command with a message naming AUDIT_KEY', async () => {
    const file = join(tempDir(), 'audit.db');
    const run = await runCli(['audit', 'erase', '--email', 'ana@example.com'], { AUDIT_DB: file, AUDIT_KEY: 'a1:tooshort' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('AUDIT_KEY entries are label:base64 of exactly 32 bytes');
    expect(run.stderr).not.toContain('tooshort');
  });
});

describe('trails written before the chain was keyed', () => {
  /** A trail as the previous release left it: schema version 2, no key ids, plain SHA-256 links. */
  function legacyTrail(file: string, count: number): void {
    const db = new Database(file);
    db.exec(META_TABLE_SQL);
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) for (const statement of migration.sqlite) db.exec(statement);
    db.prepare(`INSERT INTO audit_meta (key, value) VALUES ('schema_version', '2')`).run();
    const columns = INSERT_COLUMNS.filter((column) => column !== 'key_id');
    const insert = db.prepare(`INSERT INTO audit_records (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    let previous = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq++) {
      const entry = sampleEntry({ email: `old${seq}@example.com`, customer_ids: [`cus_Old${seq}`] });
      const salt = randomBytes(16).toString('hex');
      const unsealed = { ...entry, seq, salt, commitment: commitmentOf(salt, entry.email, entry.customer_ids), prev_hash: previous, key_id: null };
      const row: AuditRow = { ...unsealed, hash: unkeyedLinkOf(unsealed) };
      insert.run(...toColumns(row).slice(0, columns.length));
      previous = row.hash;
    }
    db.close();
  }

  it('verify as unkeyed up to the first keyed record; an unkeyed record after it fails', async () => {
    const file = join(tempDir(), 'audit.db');
    legacyTrail(file, 3);
    const env = { AUDIT_DB: file };
    const old = await runCli(['audit', 'verify', '--json'], env);
    expect(old.code, old.stdout + old.stderr).toBe(0);
    expect(JSON.parse(old.stdout)).toMatchObject({ ok: true, records: 3, unkeyed_through: 3 });

    // The upgraded server goes on writing: keyed links from record 4.
    await appendFor(env, 3);
    const upgraded = await runCli(['audit', 'verify'], env);
    expect(upgraded.code, upgraded.stdout + upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toContain('OK: 6 records, 1…6, chain intact (records 1…3 are unkeyed: written before the chain was keyed');

    // An unkeyed link after a keyed one is someone re-linking without the key.
    await rewriteAndRelink(sqliteSql(file), { change: 5, claimUnkeyed: true });
    const relinked = await runCli(['audit', 'verify'], env);
    expect(relinked.code).toBe(1);
    expect(relinked.stdout).toBe('BROKEN at record #5: record 5 is unkeyed, after keyed record 4: it was rewritten by someone without the audit key.\n');
  });

  it('the first keyed record holds the unkeyed ones before it in place', async () => {
    const file = join(tempDir(), 'audit.db');
    legacyTrail(file, 3);
    await appendFor({ AUDIT_DB: file }, 2);
    // Record 2 (unkeyed) is rewritten and 2…3 re-linked: record 4's keyed link still names the old record 3.
    await rewriteAndRelink(sqliteSql(file), { change: 2, relinkThrough: 3, claimUnkeyed: true });
    const verify = await runCli(['audit', 'verify'], { AUDIT_DB: file });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toBe('BROKEN at record #4: record 4 does not follow record 3.\n');
  });
});

describe('checkpoints (AUDIT_ANCHOR_FILE) and audit verify --anchors', () => {
  it('serve checkpoints its head to the log and the file; --anchors catches a re-linked trail of the same length, and deleted newest records', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const anchors = join(dir, 'anchors.jsonl');
    const served = await startServeDemo({ AUDIT_DB: file, AUDIT_ANCHOR_FILE: anchors, LOG_LEVEL: 'info' });
    started.push(served);
    for (const email of [DEMO.emails.alice, DEMO.emails.bob, DEMO.emails.carol]) await staffLookUp(served.url, email);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);

    const env = { AUDIT_DB: file };
    const intact = JSON.parse((await runCli(['audit', 'verify', '--json'], env)).stdout) as { records: number; last_seq: number };
    // Stopping writes the head as it left it, to the file and the log.
    const lines = readFileSync(anchors, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { seq: number; hash: string; at: string });
    expect(lines.at(-1)).toMatchObject({ seq: intact.last_seq, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(served.stderr()).toContain('"msg":"audit trail: checkpoint"');
    expect(served.stderr()).toContain(`"seq":${intact.last_seq}`);
    const checked = await runCli(['audit', 'verify', '--anchors', anchors], env);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`${lines.length} checkpoints from ${anchors} match`);

    // Every record re-linked the unkeyed way, one changed: the count is the same, and without the
    // key the chain alone can only say that the records are unkeyed.
    await rewriteAndRelink(sqliteSql(file), { change: 2, relinkFrom: 1, claimUnkeyed: true });
    const alone = await runCli(['audit', 'verify', '--json'], env);
    expect(JSON.parse(alone.stdout)).toMatchObject({ ok: true, records: intact.records, unkeyed_through: intact.last_seq });
    const held = await runCli(['audit', 'verify', '--anchors', anchors], env);
    expect(held.code).toBe(1);
    expect(held.stdout).toMatch(new RegExp(`^BROKEN at record #${lines[0]!.seq}: record ${lines[0]!.seq} is not the one checkpointed at ${lines[0]!.at}: it, or a record before it, was changed, removed or re-linked since\\.\\n$`));
  }, 60_000);

  it('--anchors catches the newest records deleted, which the chain alone cannot show', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const anchors = join(dir, 'anchors.jsonl');
    await appendFor({ AUDIT_DB: file }, 5);
    const [head] = await sqliteSql(file)('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    writeFileSync(anchors, `${JSON.stringify({ seq: 5, hash: head!.hash, at: '2026-01-01T00:00:00.000Z' })}\n`);
    await sqliteSql(file)('DELETE FROM audit_records WHERE seq >= 4');
    expect((await runCli(['audit', 'verify'], { AUDIT_DB: file })).code).toBe(0);
    const held = await runCli(['audit', 'verify', '--anchors', anchors], { AUDIT_DB: file });
    expect(held.code).toBe(1);
    expect(held.stdout).toBe('BROKEN at record #5: record 5, checkpointed at 2026-01-01T00:00:00.000Z, is gone: the newest records were deleted.\n');
  });

  it('refuses an anchor file it cannot read as checkpoints (exit 2), and --anchors outside verify', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const anchors = join(dir, 'anchors.jsonl');
    writeFileSync(anchors, '{"seq":1,"hash":"nothex","at":"x"}\n');
    const bad = await runCli(['audit', 'verify', '--anchors', anchors], { AUDIT_DB: file });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`line 1 of ${anchors} is not a checkpoint`);
    const missing = await runCli(['audit', 'verify', '--anchors', join(dir, 'none.jsonl')], { AUDIT_DB: file });
    expect(missing.code).toBe(2);
    const elsewhere = await runCli(['audit', 'list', '--anchors', anchors], { AUDIT_DB: file });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('--anchors goes with audit verify');
  });
});

describe('doctor: the chain key and checkpoints', () => {
  it('says where the key is and where checkpoints go, makes no key, and warns when others can read the key file, the anchor file cannot be written or AUDIT_KEY is malformed', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const keyFile = join(dir, 'audit.key');
    const before = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file }), false);
    expect(before).toMatchObject({ status: 'ok' });
    expect(before.detail).toContain(`its chain key will be generated into ${keyFile}`);
    expect(existsSync(keyFile)).toBe(false);

    await appendFor({ AUDIT_DB: file }, 1);
    const generated = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file }), false);
    expect(generated).toMatchObject({ status: 'ok' });
    expect(generated.detail).toContain(`chain keyed with the generated key in ${keyFile} (for production, move it to a secret store and set AUDIT_KEY)`);

    chmodSync(keyFile, 0o644);
    const loose = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file }), false);
    expect(loose).toMatchObject({ status: 'warn', fix: expect.stringContaining(`chmod 600 ${keyFile}`) });

    const set = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file, AUDIT_KEY: TEST_AUDIT_KEY }), false);
    expect(set).toMatchObject({ status: 'ok' });
    expect(set.detail).toContain('chain keyed with AUDIT_KEY (2 keys)');

    const anchored = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file, AUDIT_KEY: TEST_AUDIT_KEY, AUDIT_ANCHOR_FILE: join(dir, 'anchors.jsonl') }), false);
    expect(anchored).toMatchObject({ status: 'ok' });
    expect(anchored.detail).toContain(`checkpoints appended to ${join(dir, 'anchors.jsonl')}`);
    const nowhere = join(dir, 'no-such-folder', 'anchors.jsonl');
    const unwritable = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file, AUDIT_KEY: TEST_AUDIT_KEY, AUDIT_ANCHOR_FILE: nowhere }), false);
    expect(unwritable).toMatchObject({ status: 'warn', fix: expect.stringContaining(nowhere) });
    expect(unwritable.detail).toContain('checkpoints go to the log only');

    const malformed = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file, AUDIT_KEY: 'nolabel' }), false);
    expect(malformed).toMatchObject({ status: 'fail' });
    expect(malformed.detail).toContain('AUDIT_KEY entries are label:base64');
  });
});
