/**
 * `audit erase` removes a person from the files on disk, not only from what queries return:
 * SQLite's main file, -wal and -shm while `serve` runs and after it stops; in Postgres, the
 * table vacuumed right after the erasure, so no old row version holds them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { openStoreAsCli, sampleEntry, staffLookUp, tempDirAfterAll } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { usePostgresServer } from '../support/postgres-server.js';
import { killedAfterEach, startServeDemo } from '../support/serve-process.js';

const tempDir = tempDirAfterAll('sbm-erase-disk-');
const started = killedAfterEach();
const postgres = usePostgresServer();

const CAROL = { email: DEMO.emails.carol, customer: DEMO.customers.carol };
const BOB = { email: DEMO.emails.bob, customer: DEMO.customers.bob };


/** How often `needle` occurs in each of the database's files (main, -wal, -shm), by file name. */
function occurrences(dir: string, needle: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of readdirSync(dir).filter((file) => file.startsWith('audit.db'))) {
    const bytes = readFileSync(join(dir, name));
    let count = 0;
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) count += 1;
    counts[name] = count;
  }
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);

describe('SQLite: no byte of an erased email or customer id stays in any file of the database', () => {
  it('while serve runs and writes on, and after it stops', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.db');
    const served = await startServeDemo({ AUDIT_DB: file });
    started.push(served);
    // Enough records, over several batches, that Carol's rows sit on many pages and in the -wal.
    for (let round = 0; round < 12; round++) {
      await Promise.all([staffLookUp(served.url, CAROL.email), staffLookUp(served.url, BOB.email), staffLookUp(served.url, CAROL.email)]);
    }
    const env = { AUDIT_DB: file };
    await expect.poll(async () => (JSON.parse((await runCli(['audit', '--json', '--email', CAROL.email, '--limit', '1000'], env)).stdout) as { records: unknown[] }).records.length, { timeout: 10_000 }).toBe(24);
    // Before: the files hold her (the scan reads the real data).
    expect(total(occurrences(dir, CAROL.email))).toBeGreaterThan(0);
    expect(existsSync(`${file}-wal`)).toBe(true);

    const erase = await runCli(['audit', 'erase', '--email', CAROL.email], env);
    expect(erase.code, erase.stderr).toBe(0);
    expect(erase.stdout).toContain('24 records');

    expect(occurrences(dir, CAROL.email), 'her email, while serve runs').toEqual({ 'audit.db': 0, 'audit.db-wal': 0, 'audit.db-shm': 0 });
    expect(total(occurrences(dir, CAROL.customer)), 'her customer id, while serve runs').toBe(0);
    // Bob was not erased: he is still there.
    expect(total(occurrences(dir, BOB.email))).toBeGreaterThan(0);

    // The server goes on writing after the erasure; nothing of hers comes back.
    for (let round = 0; round < 5; round++) await staffLookUp(served.url, BOB.email);
    await expect.poll(async () => (JSON.parse((await runCli(['audit', '--json', '--email', BOB.email, '--limit', '1000'], env)).stdout) as { records: unknown[] }).records.length, { timeout: 10_000 }).toBe(17);
    expect(total(occurrences(dir, CAROL.email))).toBe(0);
    expect(total(occurrences(dir, CAROL.customer))).toBe(0);

    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(total(occurrences(dir, CAROL.email)), 'her email, after stop').toBe(0);
    expect(total(occurrences(dir, CAROL.customer)), 'her customer id, after stop').toBe(0);

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);

  it('a retention purge leaves no byte of the purged records either, open or closed', async () => {
    const dir = tempDir();
    const store = await openStoreAsCli({ AUDIT_DB: join(dir, 'audit.db') });
    await store.migrate();
    const old = (n: number) => sampleEntry({ at: `2020-01-0${n}T00:00:00.000Z`, email: CAROL.email, customer_ids: [CAROL.customer] });
    for (let batch = 0; batch < 5; batch++) await store.append([1, 2, 3, 4, 5].map(old));
    await store.append([sampleEntry({ at: '2026-01-01T00:00:00.000Z', email: BOB.email, customer_ids: [BOB.customer] })]);
    expect(total(occurrences(dir, CAROL.email))).toBeGreaterThan(0);

    expect(await store.purgeBefore('2025-01-01T00:00:00.000Z')).toBe(25);
    expect(total(occurrences(dir, CAROL.email)), 'her email, store open').toBe(0);
    expect(total(occurrences(dir, CAROL.customer)), 'her customer id, store open').toBe(0);
    await store.close();
    expect(total(occurrences(dir, CAROL.email)), 'her email, store closed').toBe(0);
    expect(total(occurrences(dir, CAROL.customer)), 'her customer id, store closed').toBe(0);
    expect(total(occurrences(dir, BOB.email))).toBeGreaterThan(0);
  });
});

describe('Postgres: erase vacuums the table it changed', () => {
  it('leaves no old row version holding the erased email in the table: vacuumed right after the erasure', async () => {
    const url = await postgres().createDatabase();
    const env = { DATABASE_URL: url, XDG_DATA_HOME: tempDir() };
    const served = await startServeDemo(env);
    started.push(served);
    for (let round = 0; round < 8; round++) await Promise.all([staffLookUp(served.url, CAROL.email), staffLookUp(served.url, BOB.email)]);
    await expect.poll(async () => (JSON.parse((await runCli(['audit', '--json', '--email', CAROL.email], env)).stdout) as { records: unknown[] }).records.length, { timeout: 10_000 }).toBe(8);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // pgstattuple counts the row versions in the table's pages, dead ones (an UPDATE's old versions) apart.
      await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
      const deadVersions = async () => Number((await client.query<{ n: string }>(`SELECT dead_tuple_count AS n FROM pgstattuple('audit_records')`)).rows[0]!.n);

      const erase = await runCli(['audit', 'erase', '--email', CAROL.email], env);
      expect(erase.code, erase.stderr).toBe(0);
      expect(erase.stdout).toContain('8 records');

      // The erasure's UPDATE left her 8 old row versions behind; erase vacuumed them away before it returned.
      expect(await deadVersions()).toBe(0);
      expect(JSON.stringify((await client.query('SELECT * FROM audit_records')).rows)).not.toContain(CAROL.email);
    } finally {
      await client.end();
    }
  }, 60_000);
});
