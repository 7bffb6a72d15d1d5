/**
 * TENANT_KEY_SECRET: one or more key-encryption keys, `k2:<base64>,k1:<base64>`. The first
 * encrypts; every one decrypts. Each value is AES-256-GCM with a random 96-bit nonce, and its
 * associated data is the tenant id and the field name, so a ciphertext moved to another tenant or
 * another field does not decrypt. Each ciphertext names the key id derived from its key (not the
 * label), so a missing or wrong key is told apart from tampering, and named.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../errors.js';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type KeyringProblem = 'unknown_key' | 'tampered' | 'malformed';

/** A value that cannot be decrypted: says why (never the value, never a key). */
export class KeyringError extends Error {
  constructor(
    readonly problem: KeyringProblem,
    message: string,
  ) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** One key of a `label:base64` list. */
export interface ListedKey {
  label: string;
  /** sha256("sbm-kek" ‖ key), first 16 hex: recorded in every value it makes, so the key is named, never shown. */
  id: string;
  key: Buffer;
}

type Kek = ListedKey;

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('sbm-kek\n').update(key).digest('hex').slice(0, 16);
}

/**
 * A keyring setting (`k2:<base64>,k1:<base64>`, newest first) checked and parsed; errors name
 * `setting`. Empty when the setting is. Shared by TENANT_KEY_SECRET and AUDIT_KEY.
 */
export function parseKeyList(value: string | undefined, setting: string): ListedKey[] {
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  const keys = entries.map((entry) => {
    const at = entry.indexOf(':');
    const label = entry.slice(0, at);
    const key = Buffer.from(entry.slice(at + 1), 'base64');
    if (at <= 0 || !/^[A-Za-z0-9_.-]{1,32}$/.test(label) || key.length !== 32) {
      throw new ConfigurationError(`${setting} entries are label:base64 of exactly 32 bytes (openssl rand -base64 32), comma-separated, newest first.`);
    }
    return { label, id: keyIdOf(key), key };
  });
  if (new Set(keys.map((kek) => kek.id)).size !== keys.length) throw new ConfigurationError(`${setting} lists the same key twice.`);
  if (new Set(keys.map((kek) => kek.label)).size !== keys.length) throw new ConfigurationError(`${setting} gives two keys the same label.`);
  return keys;
}

export class Keyring {
  private readonly keks: Kek[];

  constructor(setting: string | undefined) {
    this.keks = parseKeyList(setting, 'TENANT_KEY_SECRET');
    if (this.keks.length === 0) {
      throw new ConfigurationError('TENANT_KEY_SECRET is required in platform mode: one or more label:base64 keys of 32 bytes, e.g. k1:$(openssl rand -base64 32).');
    }
  }

  /** The key id new values are encrypted under. */
  get currentKeyId(): string {
    return this.keks[0]!.id;
  }

  get labels(): string[] {
    return this.keks.map((kek) => `${kek.label} (${kek.id})`);
  }

  encrypt(plaintext: string, tenantId: string, field: string): string {
    const kek = this.keks[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', kek.key, nonce);
    cipher.setAAD(Buffer.from(`${tenantId}\n${field}`));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, kek.id, nonce.toString('base64url'), Buffer.concat([body, cipher.getAuthTag()]).toString('base64url')].join('.');
  }

  /** The key id a stored value was encrypted under, without decrypting it. */
  keyIdOf(ciphertext: string): string | undefined {
    const parts = ciphertext.split('.');
    return parts.length === 4 && parts[0] === VERSION ? parts[1] : undefined;
  }

  decrypt(ciphertext: string, tenantId: string, field: string): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new KeyringError('malformed', `the stored ${field} of tenant ${tenantId} is not a value this server encrypted`);
    const [, keyId, nonceText, sealedText] = parts as [string, string, string, string];
    const kek = this.keks.find((candidate) => candidate.id === keyId);
    if (!kek) {
      throw new KeyringError('unknown_key', `the stored ${field} of tenant ${tenantId} was encrypted with key ${keyId}, which TENANT_KEY_SECRET does not hold (it holds ${this.labels.join(', ')})`);
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw new KeyringError('malformed', `the stored ${field} of tenant ${tenantId} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, nonce);
      decipher.setAAD(Buffer.from(`${tenantId}\n${field}`));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyringError('tampered', `the stored ${field} of tenant ${tenantId} fails its integrity check under key ${keyId}: it was altered, or moved from another tenant or field`);
    }
  }
}
