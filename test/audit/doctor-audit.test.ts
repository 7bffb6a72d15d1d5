import { readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { auditCheck } from '../../src/doctor/audit-check.js';
import { silentLogger } from '../../src/log.js';
import { openTestStore, tempDirAfterAll, testTrail } from '../support/audit.js';
import { testRuntime, testSettings } from '../support/mcp-harness.js';

/** doctor's row for the trail: what `serve` would write, or what a running server's trail is doing. */
const tempDir = tempDirAfterAll();

function unwritable(store: AuditStore): AuditStore {
  const failing = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  return { ...store, backend: store.backend, location: store.location, migrate: failing, append: failing, close: () => store.close() } as AuditStore;
}

describe('doctor: the disclosure audit trail', () => {
  it('says so when the trail is off', async () => {
    const row = await auditCheck(testRuntime(), testSettings({ AUDIT: 'off' }), false);
    expect(row).toMatchObject({ status: 'ok' });
    expect(row.detail).toContain('AUDIT=off');
  });

  it('opens the SQLite file serve would use', async () => {
    const file = `${tempDir()}/audit.db`;
    const row = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file }), false);
    expect(row).toMatchObject({ status: 'ok' });
    expect(row.detail).toContain(file);
  });

  it('checks a trail that does not exist yet without creating it (nor its folder), so `audit` does not find an empty one', async () => {
    const dir = tempDir();
    const file = `${dir}/not/yet/audit.db`;
    const row = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: file }), false);
    expect(row).toMatchObject({ status: 'ok' });
    expect(row.detail).toContain(`SQLite file ${file} does not exist yet; serve creates it on start`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails when the trail cannot be created there, and leaves nothing behind', async () => {
    const dir = tempDir();
    writeFileSync(`${dir}/a-file`, '');
    const row = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: `${dir}/a-file/audit.db` }), false);
    expect(row.status).toBe('fail');
    expect(readdirSync(dir)).toEqual(['a-file']);
  });

  it('warns that several processes (STORE_URL) without DATABASE_URL keep one trail each', async () => {
    const row = await auditCheck(testRuntime(), testSettings({ AUDIT_DB: `${tempDir()}/audit.db`, STORE_URL: 'redis://127.0.0.1:1' }), false);
    expect(row.status).toBe('warn');
    expect(row.fix).toContain('DATABASE_URL');
  });

  it('fails when the Postgres in DATABASE_URL does not answer, naming the setting', async () => {
    const row = await auditCheck(testRuntime(), testSettings({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }), false);
    expect(row.status).toBe('fail');
    expect(row.detail).toContain('DATABASE_URL');
    expect(row.detail).not.toContain('nobody');
  });

  it("in a running server: a trail that cannot be written is a warning, or a failure when AUDIT_REQUIRED", async () => {
    const store = unwritable(await openTestStore('sqlite', { dir: tempDir() }));
    for (const required of [false, true]) {
      const trail = new AuditTrail({ store, log: silentLogger(), bufferLimit: 10, required, flushDelayMs: 1 });
      await trail.start();
      const row = await auditCheck({ ...testRuntime(), audit: trail }, testSettings({ AUDIT_DB: store.location }), false);
      expect(row.status).toBe(required ? 'fail' : 'warn');
      expect(row.detail).toContain('cannot be written (unreachable)');
    }
    await store.close();
  });

  it('in a running server: counts what was written', async () => {
    const trail = await testTrail(await openTestStore('sqlite', { dir: tempDir() }));
    const row = await auditCheck({ ...testRuntime(), audit: trail }, testSettings({ AUDIT_DB: trail.store.location }), false);
    expect(row).toMatchObject({ status: 'ok' });
    expect(row.detail).toMatch(/SQLite file .*: 0 records written/);
    await trail.close();
  });
});
