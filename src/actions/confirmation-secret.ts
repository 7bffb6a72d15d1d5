/**
 * The secret a customer's confirmation carries (in the email link, the host's button, the MCP
 * `_meta`): 32 random bytes, shown once to the person and never to the model. The database keeps
 * only an HMAC of it, bound to its request id, under a key that is not in the database: a
 * reader of the database can neither use nor test a secret.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditKeys } from '../audit/audit-key.js';

/** How long a confirmation may wait (the issue: single-use, 15 minutes). */
export const CONFIRMATION_TTL_MS = 15 * 60 * 1000;

const SECRET_BYTES = 32;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** HMAC keys, newest first: the first hashes new secrets, every one verifies (a rotation keeps pending links working). */
export type ConfirmationKeys = readonly Buffer[];

export function newConfirmationSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** The confirmation keys, derived from the trail's keys (AUDIT_KEY) so no new setting is needed; a separate label keeps the two uses apart. */
export function confirmationKeysFrom(auditKeys: AuditKeys): ConfirmationKeys {
  if (auditKeys.keys.length === 0) throw new Error('confirmation secrets need the audit trail key (AUDIT_KEY or its key file)');
  return auditKeys.keys.map(({ key }) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'stripe-billing-mcp/action-confirmation/v1', 32)));
}

function mac(key: Buffer, requestId: string, secret: string): Buffer {
  return createHmac('sha256', key).update(`${requestId}\n${secret}`).digest();
}

/** What the row stores: the HMAC (hex) under the newest key. */
export function hashConfirmationSecret(keys: ConfirmationKeys, requestId: string, secret: string): string {
  const key = keys[0];
  if (!key) throw new Error('no confirmation key');
  return mac(key, requestId, secret).toString('hex');
}

/** Whether `secret` is the one `storedHash` was made from for this request; constant time in the secret. */
export function confirmationSecretMatches(keys: ConfirmationKeys, requestId: string, secret: string, storedHash: string | null): boolean {
  if (storedHash === null || !SECRET_PATTERN.test(secret) || !/^[0-9a-f]{64}$/.test(storedHash)) return false;
  const stored = Buffer.from(storedHash, 'hex');
  let matched = false;
  // Every key is tried, so the time does not tell which one matched.
  for (const key of keys) matched = timingSafeEqual(mac(key, requestId, secret), stored) || matched;
  return matched;
}

/**
 * One string for a URL (`/confirm/{token}`): the request id and the secret. The id only finds
 * the row; the secret is what proves the click.
 */
export function confirmationToken(requestId: string, secret: string): string {
  return `${requestId}.${secret}`;
}

export function parseConfirmationToken(token: string): { requestId: string; secret: string } | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const requestId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  return /^req_[A-Za-z0-9_-]{22}$/.test(requestId) && SECRET_PATTERN.test(secret) ? { requestId, secret } : undefined;
}
