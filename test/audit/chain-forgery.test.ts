/**
 * Someone who can write the trail's database (but does not hold AUDIT_KEY) rewrites a record and
 * re-links every later one with the chain's formula, which is public: `audit verify` must fail.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStoreAsCli, sampleEntry, TEST_AUDIT_KEY, tempDirAfterAll } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { rewriteAndRelink } from '../support/forge-chain.js';
import { postgresSql, sqliteSql, type Sql } from '../support/raw-sql.js';
import { usePostgresServer } from '../support/postgres-server.js';

const tempDir = tempDirAfterAll('sbm-forgery-');
const postgres = usePostgresServer();

/** Five call records to alice and bob, written the way `serve` writes them with these settings. */
async function writtenTrail(env: Record<string, string>): Promise<void> {
  const store = await openStoreAsCli(env);
  try {
    await store.migrate();
    await store.append([1, 2, 3, 4, 5].map((n) => sampleEntry({ email: n % 2 ? 'alice@example.com' : 'bob@example.com', customer_ids: [`cus_P${n}`] })));
  } finally {
    await store.close();
  }
}

describe.each(['sqlite', 'postgres'] as const)('a trail rewritten and re-linked without the key (%s)', (kind) => {
  async function trail(): Promise<{ env: Record<string, string>; sql: Sql }> {
    if (kind === 'sqlite') {
      const file = join(tempDir(), 'audit.db');
      return { env: { AUDIT_DB: file }, sql: sqliteSql(file) };
    }
    // Several processes on one Postgres share one AUDIT_KEY.
    const url = await postgres().createDatabase();
    return { env: { DATABASE_URL: url, AUDIT_KEY: TEST_AUDIT_KEY }, sql: postgresSql(url) };
  }

  it.each([
    ['keeping the key ids', false],
    ['claiming the records were written before the chain was keyed', true],
  ])('fails `audit verify`, %s', async (_how, claimUnkeyed) => {
    const { env, sql } = await trail();
    await writtenTrail(env);
    const before = await runCli(['audit', 'verify'], env);
    expect(before.code, before.stdout + before.stderr).toBe(0);

    // Record 3 (an ok disclosure to alice) becomes a refusal for mallory; 3, 4 and 5 are re-linked.
    await rewriteAndRelink(sql, { change: 3, claimUnkeyed });
    // The forgery reads back as the attacker wanted.
    const listed = await runCli(['audit', '--email', 'mallory@example.com', '--json'], env);
    expect(JSON.parse(listed.stdout)).toMatchObject({ records: [{ seq: 3, outcome: 'refused', email: 'mallory@example.com' }] });

    const verify = await runCli(['audit', 'verify', '--json'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: false, broken: { seq: 3 } });
  });
});
