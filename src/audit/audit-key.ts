/**
 * The keys the trail's chain is linked under. AUDIT_KEY is a keyring like TENANT_KEY_SECRET
 * (`a2:<base64>,a1:<base64>`, newest first: the first links new records, every one verifies).
 * Without it, a key is generated once into a 0600 file beside the trail, so `serve` and the demo
 * work out of the box; production moves that file's content into a secret store (AUDIT_KEY).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError } from '../errors.js';
import { parseKeyList } from '../platform/keyring.js';
import type { ChainKey } from './chain.js';

/** Where the keys came from, as doctor and the start-up log show it (never a key). */
export type AuditKeySource = { kind: 'setting' } | { kind: 'file'; path: string; created: boolean } | { kind: 'missing'; path: string };

export interface AuditKeys {
  /** Newest first: the first links new records; every one verifies. Empty only where nothing is written (doctor). */
  readonly keys: readonly ChainKey[];
  readonly source: AuditKeySource;
}

/** The keys AUDIT_KEY names; its errors name the setting. */
export function auditKeysFromSetting(value: string): AuditKeys {
  const keys = parseKeyList(value, 'AUDIT_KEY').map(({ id, key }) => ({ id, key }));
  if (keys.length === 0) throw new ConfigurationError('AUDIT_KEY is empty: give label:base64 keys of 32 bytes, e.g. a1:$(openssl rand -base64 32).');
  return { keys, source: { kind: 'setting' } };
}

function readKeyFile(path: string): AuditKeys | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new ConfigurationError(`The audit key file ${path} cannot be read (${(error as { code?: string }).code ?? 'error'}): fix its permissions, or set AUDIT_KEY.`);
  }
  const keys = parseKeyList(text.trim(), `The audit key file ${path}`).map(({ id, key }) => ({ id, key }));
  if (keys.length === 0) throw new ConfigurationError(`The audit key file ${path} is empty: restore it from where you keep it, or set AUDIT_KEY.`);
  return { keys, source: { kind: 'file', path, created: false } };
}

/**
 * Writes a new key to `path`, unless another process got there first: the key is written whole
 * to a file of its own and then linked into place, which fails if `path` exists. True when this
 * process made it.
 */
function createKeyFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(draft, `a1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(draft, 0o600);
    linkSync(draft, path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(draft);
  }
}

/**
 * AUDIT_KEY when set; else the key file at `path`, generated there first when `create` (the
 * commands that write the trail). Without either, no keys: verification then names the key id
 * each keyed record needs.
 */
export function loadAuditKeys(setting: string | undefined, path: string, options: { create: boolean }): AuditKeys {
  if (setting) return auditKeysFromSetting(setting);
  const existing = readKeyFile(path);
  if (existing) return existing;
  if (!options.create) return { keys: [], source: { kind: 'missing', path } };
  const created = createKeyFile(path);
  return { ...readKeyFile(path)!, source: { kind: 'file', path, created } };
}

/** The key new records are linked under; writing without one is a set-up error, never an unkeyed link. */
export function signingKey(keys: AuditKeys): ChainKey {
  const key = keys.keys[0];
  if (!key) throw new ConfigurationError('The audit trail has no key to link records with: set AUDIT_KEY.');
  return key;
}
