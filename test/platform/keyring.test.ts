import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { Keyring, KeyringError, type KeyringProblem } from '../../src/platform/keyring.js';

/**
 * The keyring alone: AES-256-GCM under the first key of TENANT_KEY_SECRET, bound to tenant and
 * field; a value that does not decrypt says why (wrong key, tampered, not ours) and names the key
 * id, never the value or any key.
 */
const RAW_1 = Buffer.alloc(32, 1);
const RAW_2 = Buffer.alloc(32, 2);
const RAW_3 = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
const K1 = `k1:${RAW_1.toString('base64')}`;
const K2 = `k2:${RAW_2.toString('base64')}`;
const K3 = `k3:${RAW_3.toString('base64')}`;
const SECRET = 'rk_test_fake_keyring_secret_000000000000';
const TENANT = 'ten_alpha';

/** Every way a key could show up in a message. */
const KEY_MATERIAL = [RAW_1, RAW_2, RAW_3].flatMap((raw) => [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')]);

function refusal(run: () => unknown): KeyringError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyringError);
    return error as KeyringError;
  }
  throw new Error('expected a KeyringError, but it decrypted');
}

function expectRefused(run: () => unknown, problem: KeyringProblem, mustNotShow: string[] = []): KeyringError {
  const error = refusal(run);
  expect(error.problem, error.message).toBe(problem);
  for (const secret of [...KEY_MATERIAL, SECRET, ...mustNotShow]) expect(error.message).not.toContain(secret);
  return error;
}

/** The four dot-separated parts of a ciphertext, the last two as bytes. */
function partsOf(ciphertext: string): { version: string; keyId: string; nonce: Buffer; sealed: Buffer } {
  const [version, keyId, nonce, sealed] = ciphertext.split('.') as [string, string, string, string];
  return { version, keyId, nonce: Buffer.from(nonce, 'base64url'), sealed: Buffer.from(sealed, 'base64url') };
}

function join(parts: { version: string; keyId: string; nonce: Buffer; sealed: Buffer }): string {
  return [parts.version, parts.keyId, parts.nonce.toString('base64url'), parts.sealed.toString('base64url')].join('.');
}

describe('Keyring: encrypt and decrypt', () => {
  const ring = new Keyring(K1);

  it('round trip, for ordinary, empty and non-ASCII values', () => {
    for (const value of [SECRET, '', 'whsec_äöü_€_𝄞', 'x'.repeat(10_000)]) {
      const ciphertext = ring.encrypt(value, TENANT, 'stripe_key');
      expect(ring.decrypt(ciphertext, TENANT, 'stripe_key')).toBe(value);
    }
  });

  it('the ciphertext is v1.<key id>.<nonce>.<ct+tag> and never holds the plaintext', () => {
    const ciphertext = ring.encrypt(SECRET, TENANT, 'stripe_key');
    expect(ciphertext).toMatch(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const parts = partsOf(ciphertext);
    expect(parts.keyId).toBe(ring.currentKeyId);
    expect(ring.keyIdOf(ciphertext)).toBe(ring.currentKeyId);
    expect(parts.nonce.length).toBe(12);
    expect(parts.sealed.length).toBe(Buffer.byteLength(SECRET) + 16);
    expect(ciphertext).not.toContain(SECRET);
    expect(Buffer.from(ciphertext).toString('latin1')).not.toContain(SECRET.slice(8));
  });

  it('a different nonce (and ciphertext) every time', () => {
    const ciphertexts = Array.from({ length: 200 }, () => ring.encrypt(SECRET, TENANT, 'stripe_key'));
    expect(new Set(ciphertexts.map((ciphertext) => partsOf(ciphertext).nonce.toString('hex'))).size).toBe(200);
    expect(new Set(ciphertexts).size).toBe(200);
    for (const ciphertext of ciphertexts.slice(0, 5)) expect(ring.decrypt(ciphertext, TENANT, 'stripe_key')).toBe(SECRET);
  });

  it('the key id comes from the key, not its label: the same key under another label decrypts', () => {
    const ciphertext = ring.encrypt(SECRET, TENANT, 'stripe_key');
    const relabelled = new Keyring(`renamed:${RAW_1.toString('base64')}`);
    expect(relabelled.currentKeyId).toBe(ring.currentKeyId);
    expect(relabelled.decrypt(ciphertext, TENANT, 'stripe_key')).toBe(SECRET);
    expect(new Keyring(K2).currentKeyId).not.toBe(ring.currentKeyId);
  });
});

describe('Keyring: a value moved or altered is refused as tampered', () => {
  const ring = new Keyring(`${K2},${K1}`);
  const ciphertext = ring.encrypt(SECRET, TENANT, 'stripe_key');

  it('moved to another tenant', () => {
    const error = expectRefused(() => ring.decrypt(ciphertext, 'ten_beta', 'stripe_key'), 'tampered');
    expect(error.message).toContain('ten_beta');
    expect(error.message).toContain(ring.currentKeyId);
  });

  it('moved to another field of the same tenant', () => {
    expectRefused(() => ring.decrypt(ciphertext, TENANT, 'webhook_secret'), 'tampered');
  });

  it('one flipped bit anywhere in the ciphertext, tag or nonce', () => {
    const parts = partsOf(ciphertext);
    for (let i = 0; i < parts.sealed.length; i++) {
      const sealed = Buffer.from(parts.sealed);
      sealed[i]! ^= 0x01;
      expectRefused(() => ring.decrypt(join({ ...parts, sealed }), TENANT, 'stripe_key'), 'tampered');
    }
    for (let i = 0; i < parts.nonce.length; i++) {
      const nonce = Buffer.from(parts.nonce);
      nonce[i]! ^= 0x80;
      expectRefused(() => ring.decrypt(join({ ...parts, nonce }), TENANT, 'stripe_key'), 'tampered');
    }
  });

  it('a key id swapped for another key the ring holds', () => {
    const k1Id = new Keyring(K1).currentKeyId;
    expect(k1Id).not.toBe(ring.currentKeyId);
    const error = expectRefused(() => ring.decrypt(join({ ...partsOf(ciphertext), keyId: k1Id }), TENANT, 'stripe_key'), 'tampered');
    expect(error.message).toContain(k1Id);
  });

  it('the ciphertext of another value spliced in with this nonce', () => {
    const other = partsOf(ring.encrypt('rk_test_fake_other_value_00000000000000', TENANT, 'stripe_key'));
    expectRefused(() => ring.decrypt(join({ ...partsOf(ciphertext), sealed: other.sealed }), TENANT, 'stripe_key'), 'tampered');
  });
});

describe('Keyring: truncated or not ours is malformed', () => {
  const ring = new Keyring(K1);
  const ciphertext = ring.encrypt(SECRET, TENANT, 'stripe_key');
  const parts = partsOf(ciphertext);

  it('not a value this server made: plaintext, empty, other versions, missing or extra parts', () => {
    const notOurs = [
      SECRET,
      '',
      'v1',
      `v2.${parts.keyId}.${parts.nonce.toString('base64url')}.${parts.sealed.toString('base64url')}`,
      ciphertext.split('.').slice(0, 3).join('.'),
      `${ciphertext}.extra`,
      ciphertext.replace(/^v1\./, ''),
      JSON.stringify({ ciphertext }),
    ];
    for (const value of notOurs) {
      const error = expectRefused(() => ring.decrypt(value, TENANT, 'stripe_key'), 'malformed', [value].filter((v) => v.length > 8));
      expect(error.message).toContain('not a value this server encrypted');
      expect(ring.keyIdOf(value)).toBeUndefined();
    }
  });

  it('a truncated nonce or a body shorter than the tag', () => {
    expectRefused(() => ring.decrypt(join({ ...parts, nonce: parts.nonce.subarray(0, 11) }), TENANT, 'stripe_key'), 'malformed');
    expectRefused(() => ring.decrypt(join({ ...parts, nonce: Buffer.alloc(0) }), TENANT, 'stripe_key'), 'malformed');
    expectRefused(() => ring.decrypt(join({ ...parts, sealed: parts.sealed.subarray(0, 15) }), TENANT, 'stripe_key'), 'malformed');
    expectRefused(() => ring.decrypt(join({ ...parts, sealed: Buffer.alloc(0) }), TENANT, 'stripe_key'), 'malformed');
    const truncated = expectRefused(() => ring.decrypt(join({ ...parts, sealed: Buffer.alloc(3) }), TENANT, 'stripe_key'), 'malformed');
    expect(truncated.message).toContain('truncated');
  });

  it('a body cut short but still longer than the tag fails its integrity check', () => {
    expectRefused(() => ring.decrypt(join({ ...parts, sealed: parts.sealed.subarray(0, parts.sealed.length - 1) }), TENANT, 'stripe_key'), 'tampered');
    expectRefused(() => ring.decrypt(join({ ...parts, sealed: parts.sealed.subarray(1) }), TENANT, 'stripe_key'), 'tampered');
  });
});

describe('Keyring: the wrong key is told apart from tampering, and named', () => {
  it('a keyring without the encrypting key → unknown_key naming the key id and what it holds, no key material', () => {
    const writer = new Keyring(K2);
    const ciphertext = writer.encrypt(SECRET, TENANT, 'stripe_key');
    const reader = new Keyring(`${K1},${K3}`);
    const error = expectRefused(() => reader.decrypt(ciphertext, TENANT, 'stripe_key'), 'unknown_key');
    expect(error.message).toContain(writer.currentKeyId);
    expect(error.message).toContain('TENANT_KEY_SECRET');
    expect(error.message).toContain(TENANT);
    for (const label of reader.labels) expect(error.message).toContain(label);
    expect(error.name).toBe('KeyringError');
  });

  it('unknown_key comes before any check of the body (a tampered value under an unknown key is still unknown_key)', () => {
    const ciphertext = new Keyring(K2).encrypt(SECRET, TENANT, 'stripe_key');
    const parts = partsOf(ciphertext);
    const sealed = Buffer.from(parts.sealed);
    sealed[0]! ^= 1;
    expectRefused(() => new Keyring(K1).decrypt(join({ ...parts, sealed }), TENANT, 'stripe_key'), 'unknown_key');
  });

  it('no message of any refusal holds a key or the value', () => {
    const ring = new Keyring(`${K2},${K1}`);
    const ciphertext = ring.encrypt(SECRET, TENANT, 'stripe_key');
    const messages = [
      refusal(() => new Keyring(K3).decrypt(ciphertext, TENANT, 'stripe_key')).message,
      refusal(() => ring.decrypt(ciphertext, 'ten_other', 'stripe_key')).message,
      refusal(() => ring.decrypt(ciphertext.slice(0, 20), TENANT, 'stripe_key')).message,
      refusal(() => ring.decrypt(SECRET, TENANT, 'stripe_key')).message,
    ];
    for (const message of messages) for (const secret of [...KEY_MATERIAL, SECRET]) expect(message).not.toContain(secret);
    expect(ring.labels.join(' ')).not.toMatch(new RegExp(KEY_MATERIAL.map((m) => m.replace(/[+/=]/g, '\\$&')).join('|')));
  });
});

describe('Keyring: rotation order (the first key encrypts, every key decrypts)', () => {
  const k1Only = new Keyring(K1);
  const k2Only = new Keyring(K2);
  const rotated = new Keyring(`${K2},${K1}`);

  it('the first key encrypts', () => {
    expect(rotated.currentKeyId).toBe(k2Only.currentKeyId);
    expect(rotated.keyIdOf(rotated.encrypt(SECRET, TENANT, 'stripe_key'))).toBe(k2Only.currentKeyId);
    expect(new Keyring(`${K1},${K2}`).currentKeyId).toBe(k1Only.currentKeyId);
    expect(rotated.labels).toEqual([`k2 (${k2Only.currentKeyId})`, `k1 (${k1Only.currentKeyId})`]);
  });

  it('every listed key decrypts: old values under k1, new under k2', () => {
    const old = k1Only.encrypt(SECRET, TENANT, 'stripe_key');
    const fresh = rotated.encrypt('whsec_fresh_value_000000000000', TENANT, 'webhook_secret');
    expect(rotated.decrypt(old, TENANT, 'stripe_key')).toBe(SECRET);
    expect(rotated.decrypt(fresh, TENANT, 'webhook_secret')).toBe('whsec_fresh_value_000000000000');
    expect(new Keyring(`${K3},${K1},${K2}`).decrypt(old, TENANT, 'stripe_key')).toBe(SECRET);
    // Once k1 is dropped, only what was re-encrypted under k2 still decrypts.
    expect(k2Only.decrypt(fresh, TENANT, 'webhook_secret')).toBe('whsec_fresh_value_000000000000');
    expectRefused(() => k2Only.decrypt(old, TENANT, 'stripe_key'), 'unknown_key');
    expectRefused(() => k1Only.decrypt(fresh, TENANT, 'webhook_secret'), 'unknown_key');
  });

  it('spaces around entries and empty entries are ignored', () => {
    const spaced = new Keyring(` ${K2} , ,${K1} ,`);
    expect(spaced.currentKeyId).toBe(k2Only.currentKeyId);
    expect(spaced.labels.length).toBe(2);
  });
});

describe('Keyring: a bad TENANT_KEY_SECRET is a ConfigurationError naming TENANT_KEY_SECRET', () => {
  const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['missing', undefined, /required/],
    ['empty', '', /required/],
    ['only commas and spaces', ' , ,', /required/],
    ['31 bytes', `k1:${b64(31)}`, /exactly 32 bytes/],
    ['33 bytes', `k1:${b64(33)}`, /exactly 32 bytes/],
    ['64 bytes', `k1:${b64(64)}`, /exactly 32 bytes/],
    ['not base64', 'k1:this-is-not-base64-at-all!!', /exactly 32 bytes/],
    ['no label', b64(32), /label:base64/],
    ['empty label', `:${b64(32)}`, /label:base64/],
    ['label with a space', `my key:${b64(32)}`, /label:base64/],
    ['label with a slash', `k/1:${b64(32)}`, /label:base64/],
    ['label too long', `${'k'.repeat(33)}:${b64(32)}`, /label:base64/],
    ['one good, one bad', `${K1},k2:${b64(16)}`, /exactly 32 bytes/],
    ['the same key twice', `${K1},again:${RAW_1.toString('base64')}`, /same key twice/],
    ['the same entry twice', `${K1},${K1}`, /same key twice/],
  ];

  for (const [what, setting, says] of cases) {
    it(what, () => {
      let thrown: unknown;
      try {
        new Keyring(setting);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${what} was accepted`).toBeInstanceOf(ConfigurationError);
      const message = (thrown as Error).message;
      expect(message).toContain('TENANT_KEY_SECRET');
      expect(message).toMatch(says);
      // The setting's key material is never echoed back.
      for (const piece of (setting ?? '').split(/[,:]/).filter((piece) => piece.trim().length >= 16)) expect(message).not.toContain(piece.trim());
      for (const secret of KEY_MATERIAL) expect(message).not.toContain(secret);
    });
  }

  it('labels of up to 32 characters of letters, digits, . _ - are fine', () => {
    expect(() => new Keyring(`${'a'.repeat(30)}.-:${b64(32)}`)).not.toThrow();
    expect(() => new Keyring(`2025_01.kek-A:${b64(32)}`)).not.toThrow();
  });
});
