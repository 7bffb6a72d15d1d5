import { timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { sha256 as sha256Of } from '../sha256.js';
import type { HttpCaller } from '../verify/request-principal.js';

export interface Credential extends HttpCaller {
  digest: Buffer;
}

const sha256 = (secret: string): Buffer => sha256Of(secret, 'buffer');

function parseKeys(setting: 'HOST_KEYS' | 'STAFF_KEYS' | 'ADMIN_KEYS', entries: readonly string[], kind: HttpCaller['kind']): Array<Credential & { secret: string }> {
  return entries.map((entry) => {
    const at = entry.indexOf(':');
    const name = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new ConfigurationError(`${setting} entries are name:secret (name of letters, digits, "_", ".", "-"); one entry is not.`);
    }
    if (secret.length < 24) throw new ConfigurationError(`${setting}: the secret of "${name}" must be at least 24 characters (generate one with \`openssl rand -hex 32\`).`);
    return { kind, name, secret, digest: sha256(secret) };
  });
}

/** Bearer keys of chatbot hosts and staff, compared in constant time against every key. */
export class BearerKeys {
  private readonly credentials: Credential[];
  private readonly digest: (secret: string) => Buffer;
  /**
   * HOST_KEYS and STAFF_KEYS by their secret, which the settings hold anyway: a configured key
   * is known without hashing it on every request (about 10 µs under load). A lookup hashes the
   * presented string with V8's per-process seeded string hash and compares contents only on a
   * match of that hash, so its timing says nothing about how much of a key was guessed; any
   * other secret goes on to the constant-time comparison below. Never built from stored digests.
   */
  private readonly configured = new Map<string, HttpCaller>();

  /**
   * From HOST_KEYS and STAFF_KEYS; or (platform mode) from one tenant's stored key digests and
   * the keyed digest they were made with, so no plaintext key is ever held.
   */
  constructor(hostKeys: readonly string[], staffKeys: readonly string[], stored?: { credentials: Credential[]; digest: (secret: string) => Buffer }) {
    this.digest = stored?.digest ?? sha256;
    if (stored) {
      this.credentials = stored.credentials;
    } else {
      const parsed = [...parseKeys('HOST_KEYS', hostKeys, 'host'), ...parseKeys('STAFF_KEYS', staffKeys, 'staff')];
      this.credentials = parsed.map(({ kind, name, digest }) => ({ kind, name, digest }));
      for (const { kind, name, secret } of parsed) this.configured.set(secret, { kind, name });
    }
    const names = this.credentials.map((credential) => `${credential.kind}:${credential.name}`);
    if (new Set(names).size !== names.length) throw new ConfigurationError('HOST_KEYS and STAFF_KEYS must not repeat a name.');
    const secrets = new Set(this.credentials.map((credential) => credential.digest.toString('hex')));
    if (secrets.size !== this.credentials.length) throw new ConfigurationError('Every HOST_KEYS and STAFF_KEYS secret must be different.');
  }

  /** Platform mode: ADMIN_KEYS, the keys that connect and manage merchants (their callers are `staff`). */
  static forAdmins(entries: readonly string[]): BearerKeys {
    return new BearerKeys([], [], { credentials: parseKeys('ADMIN_KEYS', entries, 'staff').map(({ kind, name, digest }) => ({ kind, name, digest })), digest: sha256 });
  }

  get size(): number {
    return this.credentials.length;
  }

  /** The caller an `Authorization: Bearer …` header belongs to. */
  authenticate(authorization: string | undefined): HttpCaller | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return match ? this.authenticateSecret(match[1]!) : undefined;
  }

  /**
   * The caller a presented secret belongs to. A configured key is found by the secret itself in a
   * Map: V8 compares contents only when the per-process seeded hash matches, so timing tells
   * nothing of how much of a key was guessed. Any other secret is compared with every stored
   * digest in constant time.
   */
  authenticateSecret(secret: string): HttpCaller | undefined {
    const known = this.configured.get(secret.trim());
    if (known) return { kind: known.kind, name: known.name };
    const presented = this.digest(secret.trim());
    let found: HttpCaller | undefined;
    for (const credential of this.credentials) {
      if (timingSafeEqual(credential.digest, presented) && !found) found = { kind: credential.kind, name: credential.name };
    }
    return found;
  }

  /**
   * The SHA-256 of the current secret of this caller's key, or undefined once the key is gone
   * from the settings: what a panel session is bound to, so removing or rotating a staff key
   * ends the sessions it opened.
   */
  secretDigest(caller: HttpCaller): Buffer | undefined {
    return this.credentials.find((credential) => credential.kind === caller.kind && credential.name === caller.name)?.digest;
  }
}
