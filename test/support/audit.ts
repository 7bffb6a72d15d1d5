import { mkdtempSync, rmSync } from 'node:fs';
import { DEMO_STAFF_KEY } from '../../src/demo/demo-identity.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { auditKeysFromSetting } from '../../src/audit/audit-key.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { openAuditStore } from '../../src/audit/create-audit-trail.js';
import type { AuditEntry } from '../../src/audit/record.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { loadSettings } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import type { PostgresServer } from './postgres-server.js';

/** A temporary folder removed after the file's tests. */
export function tempDirAfterAll(prefix = 'sbm-audit-'): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** An AUDIT_KEY for tests: two keys, newest first (the second was the first, before a rotation). */
export const TEST_AUDIT_KEY = `t2:${Buffer.alloc(32, 2).toString('base64')},t1:${Buffer.alloc(32, 1).toString('base64')}`;
export const TEST_AUDIT_KEYS = auditKeysFromSetting(TEST_AUDIT_KEY);

/**
 * The store the CLI and `serve` open with these settings (their AUDIT_KEY, or the key file beside
 * AUDIT_DB), for tests that write a trail for the CLI to read. Not schema-made.
 */
export function openStoreAsCli(env: Record<string, string>): Promise<AuditStore> {
  return openAuditStore(loadSettings(env), { demo: false, log: silentLogger() });
}

/** A fresh store of either kind, schema made. */
export async function openTestStore(kind: 'sqlite' | 'postgres', where: { dir: string } | { postgres: PostgresServer }): Promise<AuditStore> {
  const store =
    kind === 'sqlite'
      ? new SqliteAuditStore(join((where as { dir: string }).dir, `audit-${Math.random().toString(36).slice(2)}.db`), TEST_AUDIT_KEYS)
      : new PostgresAuditStore(await (where as { postgres: PostgresServer }).postgres.createDatabase(), TEST_AUDIT_KEYS);
  await store.migrate();
  return store;
}

/** A trail over a store, writing at once (tests read right after a call). */
export async function testTrail(store: AuditStore, options: { required?: boolean; bufferLimit?: number } = {}): Promise<AuditTrail> {
  const trail = new AuditTrail({ store, log: silentLogger(), bufferLimit: options.bufferLimit ?? 10_000, required: options.required ?? false, flushDelayMs: 1 });
  await trail.start();
  return trail;
}

/** A call record as a verified customer's MCP call leaves it; tests override what they are about. */
export function sampleEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: '2026-03-01T10:00:00.000Z',
    kind: 'call',
    tenant_id: null,
    surface: 'mcp',
    caller: 'host:acme-bot',
    conversation: null,
    principal: 'customer',
    verified_by: 'identity-token',
    issuer: 'https://id.example.com',
    unverified: false,
    tool: 'get_subscription',
    outcome: 'ok',
    reason: null,
    disclosed: ['subscription'],
    write: null,
    detail: null,
    email: null,
    customer_ids: [],
    ...overrides,
  };
}

/** A staff look-up of one customer over /v1/tools on a `serve --demo`: one record naming their email and customer id. */
export async function staffLookUp(url: string, email: string): Promise<void> {
  const response = await fetch(`${url}/v1/tools/get_credit_balance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_STAFF_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (response.status !== 200) throw new Error(`staff look-up answered ${response.status}`);
  await response.text();
}
