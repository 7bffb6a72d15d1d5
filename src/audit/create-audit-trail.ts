import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { loggedDbError, type AuditStore } from './audit-store.js';
import { AuditTrail } from './audit-trail.js';

export type AuditSettings = Pick<Settings, 'AUDIT' | 'AUDIT_DB' | 'DATABASE_URL' | 'AUDIT_RETENTION_DAYS' | 'AUDIT_BUFFER' | 'AUDIT_REQUIRED'>;

/** Where the embedded trail lives without AUDIT_DB: the XDG data directory. */
export function dataDirectory(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'stripe-billing-mcp');
}

export function auditDbPath(settings: AuditSettings, demo: boolean): string {
  return settings.AUDIT_DB ?? join(dataDirectory(), demo ? 'audit-demo.db' : 'audit.db');
}

/** On by default for `serve` (and wherever a database is named); off for stdio otherwise. */
export function auditEnabled(settings: AuditSettings, command: 'stdio' | 'serve' | 'doctor' | 'audit'): boolean {
  if (settings.AUDIT === 'off') return false;
  if (settings.AUDIT === 'on') return true;
  return command === 'serve' || command === 'audit' || settings.AUDIT_DB !== undefined || settings.DATABASE_URL !== undefined;
}

/** The store the settings name: Postgres with DATABASE_URL, else the SQLite file. Loaded on first use. */
export async function openAuditStore(settings: AuditSettings, options: { demo: boolean; log: Logger }): Promise<AuditStore> {
  if (settings.DATABASE_URL) {
    const { PostgresAuditStore } = await import('./postgres-audit-store.js');
    return new PostgresAuditStore(settings.DATABASE_URL, (error) => options.log.warn({ err: loggedDbError(error) }, 'audit trail: Postgres connection lost'));
  }
  const { SqliteAuditStore } = await import('./sqlite-audit-store.js');
  return new SqliteAuditStore(auditDbPath(settings, options.demo));
}

/** The running trail: schema made (or waiting for the database), records flowing. */
export async function createAuditTrail(settings: AuditSettings, options: { demo: boolean; log: Logger }): Promise<AuditTrail> {
  const store = await openAuditStore(settings, options);
  const trail = new AuditTrail({ store, log: options.log, bufferLimit: settings.AUDIT_BUFFER, required: settings.AUDIT_REQUIRED });
  try {
    await trail.start();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return trail;
}
