import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { anyActionEnabled } from '../actions/create-engine.js';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { loadAuditKeys, type AuditKeys } from './audit-key.js';
import { loggedDbError, type AuditStore } from './audit-store.js';
import { AuditTrail } from './audit-trail.js';
import { Checkpointer } from './checkpoints.js';

export type AuditSettings = Pick<Settings, 'AUDIT' | 'AUDIT_DB' | 'DATABASE_URL' | 'AUDIT_RETENTION_DAYS' | 'AUDIT_BUFFER' | 'AUDIT_REQUIRED' | 'AUDIT_KEY' | 'AUDIT_ANCHOR_FILE' | 'PORT'> & Partial<Pick<Settings, 'ACTIONS_POLICY'>>;

/** Where the embedded trail lives without AUDIT_DB: the XDG data directory. */
export function dataDirectory(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'stripe-billing-mcp');
}

/** The demos' trails, apart from the real one (`audit.db`). */
function demoTrailsDirectory(): string {
  return join(dataDirectory(), 'demo');
}

/**
 * One demo's trail: one per port, since two demos running on one machine never share a port
 * (a demo started again on the same port carries on its trail); on a random port (PORT=0),
 * one per process.
 */
export function demoTrailPath(port: number): string {
  return join(demoTrailsDirectory(), port === 0 ? `process-${process.pid}.db` : `port-${port}.db`);
}

export function auditDbPath(settings: AuditSettings, demo: boolean): string {
  return settings.AUDIT_DB ?? (demo ? demoTrailPath(settings.PORT) : join(dataDirectory(), 'audit.db'));
}

export interface DemoTrail {
  path: string;
  /** When the demo last wrote to it (its WAL file counts: SQLite writes there first). */
  modified: Date;
}

/** Names the trail of the demo started last, for `audit --demo`: file times say when a demo last wrote, not which started last. */
const LATEST_DEMO = 'latest';

/** Called as a demo's trail opens: `audit --demo` reads this one first. */
function markLatestDemo(path: string): void {
  try {
    writeFileSync(join(dirname(path), LATEST_DEMO), `${basename(path)}\n`, { mode: 0o600 });
  } catch {
    // Only a convenience for `audit --demo`: file times still order the trails.
  }
}

/** The demo trails on this machine, the demo started last first, then by last write; none when no demo has run. */
export function demoTrails(): DemoTrail[] {
  const directory = demoTrailsDirectory();
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const lastWrite = (path: string) => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return 0;
    }
  };
  let latest = '';
  try {
    latest = readFileSync(join(directory, LATEST_DEMO), 'utf8').trim();
  } catch {
    // No demo has marked itself.
  }
  return names
    .filter((name) => name.endsWith('.db'))
    .map((name) => ({ name, path: join(directory, name) }))
    .map(({ name, path }) => ({ path, latest: name === latest, modified: new Date(Math.max(lastWrite(path), lastWrite(`${path}-wal`))) }))
    .sort((a, b) => Number(b.latest) - Number(a.latest) || b.modified.getTime() - a.modified.getTime())
    .map(({ path, modified }) => ({ path, modified }));
}

/**
 * Where the generated chain key is kept without AUDIT_KEY: beside the SQLite file (`audit.db` →
 * `audit.key`, outside the database's own files), or, with DATABASE_URL, in the data directory.
 * Every command with the same settings (stdio, serve, serve --platform, audit) finds the same one.
 */
function auditKeyFile(settings: AuditSettings, demo: boolean): string {
  if (settings.DATABASE_URL) return join(dataDirectory(), 'audit.key');
  const db = auditDbPath(settings, demo);
  return join(dirname(db), `${basename(db, extname(db)) || basename(db)}.key`);
}

/** The chain's keys for these settings; `create` (commands that write) generates the key file if needed. */
export function auditKeysFor(settings: AuditSettings, demo: boolean, create: boolean): AuditKeys {
  return loadAuditKeys(settings.AUDIT_KEY, auditKeyFile(settings, demo), { create });
}

/**
 * On by default for `serve` (and wherever a database is named, or the actions policy turns an
 * action on: requests live in the trail's database); off for stdio otherwise.
 */
export function auditEnabled(settings: AuditSettings, command: 'stdio' | 'serve' | 'doctor' | 'audit'): boolean {
  if (settings.AUDIT === 'off') return false;
  if (settings.AUDIT === 'on') return true;
  return command === 'serve' || command === 'audit' || settings.AUDIT_DB !== undefined || settings.DATABASE_URL !== undefined || anyActionEnabled(settings.ACTIONS_POLICY);
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
  if (options.demo && !settings.AUDIT_DB && !settings.DATABASE_URL) markLatestDemo(store.location);
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
