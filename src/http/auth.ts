import { timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { sha256 as sha256Of } from '../sha256.js';
import type { HttpCaller } from '../verify/request-principal.js';

export interface Credential extends HttpCaller {
  digest: Buffer;
}

const sha256 = (secret: string): Buffer => sha256Of(secret, 'buffer');

function parseKeys(setting: 'HOST_KEYS' | 'STAFF_KEYS' | 'ADMIN_KEYS', entries: readonly string[], kind: HttpCaller['kind']): Credential[] {
  return entries.map((entry) => {
    const at = entry.indexOf(':');
    const name = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new ConfigurationError(`${setting} entries are name:secret (name of letters, digits, "_", ".", "-"); one entry is not.`);
    }
    if (secret.length < 24) throw new ConfigurationError(`${setting}: the secret of "${name}" must be at least 24 characters (generate one with \`openssl rand -hex 32\`).`);
    return { kind, name, digest: sha256(secret) };
  });
}

/** Bearer keys of chatbot hosts and staff, compared in constant time against every key. */
export class BearerKeys {
  private readonly credentials: Credential[];
  private readonly digest: (secret: string) => Buffer;

  /**
   * From HOST_KEYS and STAFF_KEYS; or (platform mode) from one tenant's stored key digests and
   * the keyed digest they were made with, so no plaintext key is ever held.
   */
  constructor(hostKeys: readonly string[], staffKeys: readonly string[], stored?: { credentials: Credential[]; digest: (secret: string) => Buffer }) {
    this.digest = stored?.digest ?? sha256;
    this.credentials = stored ? stored.credentials : [...parseKeys('HOST_KEYS', hostKeys, 'host'), ...parseKeys('STAFF_KEYS', staffKeys, 'staff')];
    const names = this.credentials.map((credential) => `${credential.kind}:${credential.name}`);
    if (new Set(names).size !== names.length) throw new ConfigurationError('HOST_KEYS and STAFF_KEYS must not repeat a name.');
    const secrets = new Set(this.credentials.map((credential) => credential.digest.toString('hex')));
    if (secrets.size !== this.credentials.length) throw new ConfigurationError('Every HOST_KEYS and STAFF_KEYS secret must be different.');
  }

  /** Platform mode: ADMIN_KEYS, the keys that connect and manage merchants (their callers are `staff`). */
  static forAdmins(entries: readonly string[]): BearerKeys {
    return new BearerKeys([], [], { credentials: parseKeys('ADMIN_KEYS', entries, 'staff'), digest: sha256 });
  }

  get size(): number {
    return this.credentials.length;
  }

  /** The caller an `Authorization: Bearer …` header belongs to. */
  authenticate(authorization: string | undefined): HttpCaller | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return match ? this.authenticateSecret(match[1]!) : undefined;
  }

  /** The caller a presented secret belongs to; every key is compared, so timing says nothing. */
  authenticateSecret(secret: string): HttpCaller | undefined {
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
