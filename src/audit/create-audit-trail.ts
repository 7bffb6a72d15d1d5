import { homedir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { loadAuditKeys, type AuditKeys } from './audit-key.js';
import { loggedDbError, type AuditStore } from './audit-store.js';
import { AuditTrail } from './audit-trail.js';
import { Checkpointer } from './checkpoints.js';

export type AuditSettings = Pick<Settings, 'AUDIT' | 'AUDIT_DB' | 'DATABASE_URL' | 'AUDIT_RETENTION_DAYS' | 'AUDIT_BUFFER' | 'AUDIT_REQUIRED' | 'AUDIT_KEY' | 'AUDIT_ANCHOR_FILE'>;

/** Where the embedded trail lives without AUDIT_DB: the XDG data directory. */
export function dataDirectory(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'stripe-billing-mcp');
}

export function auditDbPath(settings: AuditSettings, demo: boolean): string {
  return settings.AUDIT_DB ?? join(dataDirectory(), demo ? 'audit-demo.db' : 'audit.db');
}

/**
 * Where the generated chain key is kept without AUDIT_KEY: beside the SQLite file (`audit.db` →
 * `audit.key`, outside the database's own files), or, with DATABASE_URL, in the data directory.
 * Every command with the same settings (stdio, serve, serve --platform, audit) finds the same one.
 */
export function auditKeyFile(settings: AuditSettings, demo: boolean): string {
  if (settings.DATABASE_URL) return join(dataDirectory(), 'audit.key');
  const db = auditDbPath(settings, demo);
  return join(dirname(db), `${basename(db, extname(db)) || basename(db)}.key`);
}

/** The chain's keys for these settings; `create` (commands that write) generates the key file if needed. */
export function auditKeysFor(settings: AuditSettings, demo: boolean, create: boolean): AuditKeys {
  return loadAuditKeys(settings.AUDIT_KEY, auditKeyFile(settings, demo), { create });
}

/** On by default for `serve` (and wherever a database is named); off for stdio otherwise. */
export function auditEnabled(settings: AuditSettings, command: 'stdio' | 'serve' | 'doctor' | 'audit'): boolean {
  if (settings.AUDIT === 'off') return false;
  if (settings.AUDIT === 'on') return true;
  return command === 'serve' || command === 'audit' || settings.AUDIT_DB !== undefined || settings.DATABASE_URL !== undefined;
}

/**
 * The store the settings name: Postgres with DATABASE_URL, else the SQLite file. Loaded on first
 * use. `createKey: false` (doctor, reading commands) never makes a key file.
 */
export async function openAuditStore(settings: AuditSettings, options: { demo: boolean; log: Logger; createKey?: boolean }): Promise<AuditStore> {
  const keys = auditKeysFor(settings, options.demo, options.createKey ?? true);
  if (keys.source.kind === 'file' && keys.source.created) {
    options.log.warn({ file: keys.source.path }, 'audit trail: generated the key that links the chain, in a file readable only by this user; for production, move its content to a secret store and set AUDIT_KEY');
  }
  if (settings.DATABASE_URL) {
    const { PostgresAuditStore } = await import('./postgres-audit-store.js');
    return new PostgresAuditStore(settings.DATABASE_URL, keys, (error) => options.log.warn({ err: loggedDbError(error) }, 'audit trail: Postgres connection lost'));
  }
  const { SqliteAuditStore } = await import('./sqlite-audit-store.js');
  return new SqliteAuditStore(auditDbPath(settings, options.demo), keys);
}

/** The running trail: schema made (or waiting for the database), records flowing, the head checkpointed. */
export async function createAuditTrail(settings: AuditSettings, options: { demo: boolean; log: Logger }): Promise<AuditTrail> {
  const store = await openAuditStore(settings, options);
  if (settings.DATABASE_URL && store.auditKeys.source.kind === 'file') {
    options.log.warn({ file: store.auditKeys.source.path }, 'audit trail: DATABASE_URL is set but AUDIT_KEY is not: this process links the chain with the key in its own file, and `audit verify` needs the key of every process. Set AUDIT_KEY, the same on every process.');
  }
  const checkpoints = new Checkpointer({ log: options.log, anchorFile: settings.AUDIT_ANCHOR_FILE });
  const trail = new AuditTrail({ store, log: options.log, bufferLimit: settings.AUDIT_BUFFER, required: settings.AUDIT_REQUIRED, checkpoints });
  try {
    await trail.start();
  } catch (error) {
    checkpoints.close();
    await store.close().catch(() => undefined);
    throw error;
  }
  return trail;
}
