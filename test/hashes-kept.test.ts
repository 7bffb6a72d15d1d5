// The hashes made on every call are now made with crypto.hash and, for emails and conversations,
// kept per value: what they give must stay byte for byte what earlier releases stored and shared
// (audit records searched with `audit --conversation`, cache entries in a shared Redis).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { conversationHash } from '../src/audit/call-entry.js';
import { CacheTags } from '../src/cache/billing-reads.js';
import { BearerKeys } from '../src/http/auth.js';
import { sha256 } from '../src/sha256.js';

const HOST_SECRET = 'host-secret-0123456789abcdef0123';
const STAFF_SECRET = 'staff-secret-0123456789abcdef012';

describe('hashes made per call', () => {
  it('sha256 gives what createHash gives, in every encoding', () => {
    for (const text of ['', 'alice@example.com', 'ünïcode ✓ text']) {
      expect(sha256(text, 'hex')).toBe(createHash('sha256').update(text).digest('hex'));
      expect(sha256(text, 'base64url')).toBe(createHash('sha256').update(text).digest('base64url'));
      expect(sha256(text, 'buffer').equals(createHash('sha256').update(text).digest())).toBe(true);
    }
  });

  it('a conversation keeps the hash earlier records were stored under, on every call', () => {
    const stored = (key: string) => createHash('sha256').update(`sbm-conversation\n${key}`).digest('hex').slice(0, 32);
    for (let call = 0; call < 3; call++) {
      expect(conversationHash('host:acme-bot:conv-1')).toBe(stored('host:acme-bot:conv-1'));
      expect(conversationHash('host:acme-bot:conv-2')).toBe(stored('host:acme-bot:conv-2'));
    }
    expect(conversationHash('host:acme-bot:conv-1')).not.toBe(conversationHash('host:acme-bot:conv-2'));
  });

  it("an email's cache tag is the shared one, whatever its case or spaces, on every call", () => {
    const tags = new CacheTags('kscope');
    const shared = `kscope:v3:t:email:${createHash('sha256').update('alice@example.com').digest('base64url').slice(0, 22)}`;
    for (let call = 0; call < 3; call++) {
      expect(tags.email('alice@example.com')).toBe(shared);
      expect(tags.email(' Alice@Example.COM ')).toBe(shared);
    }
    expect(tags.email('bob@example.com')).not.toBe(shared);
    // Another scope (another Stripe key or merchant) never shares the tag.
    expect(new CacheTags('kother').email('alice@example.com')).not.toBe(shared);
  });

  it('bearer keys still tell host from staff and refuse any other secret', () => {
    const keys = new BearerKeys([`acme-bot:${HOST_SECRET}`], [`support:${STAFF_SECRET}`]);
    for (let call = 0; call < 2; call++) {
      expect(keys.authenticate(`Bearer   ${HOST_SECRET} `)).toEqual({ kind: 'host', name: 'acme-bot' });
      expect(keys.authenticate(`Bearer ${HOST_SECRET}`)).toEqual({ kind: 'host', name: 'acme-bot' });
      expect(keys.authenticate(`Bearer ${STAFF_SECRET}`)).toEqual({ kind: 'staff', name: 'support' });
      expect(keys.authenticate(`Bearer ${HOST_SECRET.slice(0, -1)}x`)).toBeUndefined();
    }
    expect(keys.secretDigest({ kind: 'staff', name: 'support' })?.equals(createHash('sha256').update(STAFF_SECRET).digest())).toBe(true);
    // Keys are read from the settings when the server starts: a key rotated away is refused.
    const rotated = new BearerKeys([`acme-bot:${STAFF_SECRET.replace('staff', 'other')}`], []);
    expect(rotated.authenticate(`Bearer ${HOST_SECRET}`)).toBeUndefined();
    // ADMIN_KEYS (platform mode) are compared by digest only.
    const admins = BearerKeys.forAdmins([`ops:${HOST_SECRET}`]);
    expect(admins.authenticate(`Bearer ${HOST_SECRET}`)).toEqual({ kind: 'staff', name: 'ops' });
    expect(admins.authenticate(`Bearer ${STAFF_SECRET}`)).toBeUndefined();
  });
});
