import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIdentityTokenVerifier, hostFixFor, IdentityTokenError, tokensForAudience } from '../src/verify/identity-token.js';

const SECRET = 'test-identity-secret-that-is-at-least-32-bytes';
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims: Record<string, unknown>, secret = SECRET) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityTokenError);
    return (error as IdentityTokenError).reason;
  }
  throw new Error('token was accepted');
}

describe('HS256 identity tokens', () => {
  const verifier = createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET })!;

  it('turns a valid token into a customer principal with a normalised email', async () => {
    const token = await hs256({ email: '  Alice@Example.com ', exp: now() + 600 });
    await expect(verifier.verify(token)).resolves.toEqual({ kind: 'customer', email: 'alice@example.com', verifiedBy: 'identity-token' });
  });

  it('refuses alg none, a wrong key, expired and not-yet-valid tokens', async () => {
    const unsigned = new UnsecuredJWT({ email: 'alice@example.com', exp: now() + 600 }).encode();
    expect(await refusal(verifier.verify(unsigned))).toBe('bad_signature');
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', exp: now() + 600 }, 'another-secret-that-is-also-32-bytes-long')))).toBe('bad_signature');
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', exp: now() - 60 })))).toBe('expired');
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, nbf: now() + 300 })))).toBe('not_yet_valid');
  });

  it('a token checked once (and remembered) is still refused once it expires', async () => {
    const token = await hs256({ email: 'alice@example.com', exp: now() + 30 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ email: 'alice@example.com' });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60_000);
      expect(await refusal(verifier.verify(token))).toBe('expired');
    } finally {
      vi.useRealTimers();
    }
  });

  it('requires email and exp, and refuses a host that says the email is unverified', async () => {
    expect(await refusal(verifier.verify(await hs256({ exp: now() + 600 })))).toBe('claims');
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com' })))).toBe('claims');
    expect(await refusal(verifier.verify(await hs256({ email: 'not an email', exp: now() + 600 })))).toBe('claims');
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', email_verified: false, exp: now() + 600 })))).toBe('claims');
    expect(await refusal(verifier.verify('not.a.jwt'))).toBe('malformed');
  });

  it('refuses tokens that live too long, claim to be issued in the future, or say email_verified other than true', async () => {
    const hour = 3600;
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', iat: now(), exp: now() + 100 * 365 * 24 * hour })))).toBe('too_long_lived');
    // Without iat (as the README's example makes them), the lifetime counts from now.
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', exp: now() + 25 * hour })))).toBe('too_long_lived');
    await expect(verifier.verify(await hs256({ email: 'alice@example.com', exp: now() + 23 * hour }))).resolves.toMatchObject({ email: 'alice@example.com' });
    await expect(verifier.verify(await hs256({ email: 'alice@example.com', iat: now() - hour, exp: now() + 23 * hour }))).resolves.toMatchObject({ email: 'alice@example.com' });
    expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', iat: now() + 10 * 60, exp: now() + hour })))).toBe('not_yet_valid');
    for (const claim of ['false', 'true', 0, null]) {
      expect(await refusal(verifier.verify(await hs256({ email: 'alice@example.com', email_verified: claim, exp: now() + 600 }))), String(claim)).toBe('claims');
    }
    await expect(verifier.verify(await hs256({ email: 'alice@example.com', email_verified: true, exp: now() + 600 }))).resolves.toMatchObject({ email: 'alice@example.com' });
    const weekly = createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET, IDENTITY_MAX_AGE: 7 * 24 * hour })!;
    await expect(weekly.verify(await hs256({ email: 'alice@example.com', exp: now() + 6 * 24 * hour }))).resolves.toMatchObject({ email: 'alice@example.com' });
  });

  it('checks issuer and audience when they are set', async () => {
    const strict = createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET, IDENTITY_ISSUER: 'https://app.example.com', IDENTITY_AUDIENCE: 'billing-bot' })!;
    const good = await hs256({ email: 'alice@example.com', exp: now() + 600, iss: 'https://app.example.com', aud: 'billing-bot' });
    await expect(strict.verify(good)).resolves.toMatchObject({ email: 'alice@example.com' });
    expect(await refusal(strict.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, iss: 'https://evil.example', aud: 'billing-bot' })))).toBe('claims');
    expect(await refusal(strict.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, iss: 'https://app.example.com', aud: 'other' })))).toBe('claims');
  });

  it('is not configured without a secret or JWKS, and refuses both at once', () => {
    expect(createIdentityTokenVerifier({})).toBeUndefined();
    expect(() => createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET, IDENTITY_JWKS_URL: 'http://127.0.0.1:1/jwks' })).toThrow(/either IDENTITY_SECRET/);
  });
});

describe('platform mode: a token names its merchant in aud', () => {
  const forTenant = tokensForAudience(createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET })!, 'ten_alpha');

  it('accepts the tenant id as aud, alone or among others', async () => {
    await expect(forTenant.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, aud: 'ten_alpha' }))).resolves.toMatchObject({ email: 'alice@example.com' });
    await expect(forTenant.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, aud: ['ten_beta', 'ten_alpha'] }))).resolves.toMatchObject({ email: 'alice@example.com' });
  });

  it('says whether aud is missing or names another merchant, in words that name neither tenant nor token', async () => {
    const missing = await hs256({ email: 'alice@example.com', exp: now() + 600 });
    const other = await hs256({ email: 'alice@example.com', exp: now() + 600, aud: 'ten_beta' });
    expect(await refusal(forTenant.verify(missing))).toBe('audience_missing');
    expect(await refusal(forTenant.verify(await hs256({ email: 'alice@example.com', exp: now() + 600, aud: [] })))).toBe('audience_missing');
    expect(await refusal(forTenant.verify(other))).toBe('audience_other');
    const said = async (token: string) => hostFixFor(await forTenant.verify(token).catch((error: unknown) => error));
    expect(await said(missing)).toMatch(/no `aud` claim/);
    expect(await said(other)).toMatch(/`aud` claim names another merchant/);
    for (const token of [missing, other]) {
      const text = (await said(token))!;
      for (const secretish of ['ten_alpha', 'ten_beta', token, SECRET, 'alice@example.com']) expect(text).not.toContain(secretish);
    }
    // A visitor's stale token is not the host's mistake: nothing extra is said.
    expect(await said(await hs256({ email: 'alice@example.com', exp: now() - 60, aud: 'ten_alpha' }))).toBeUndefined();
  });
});

describe('RS256 and ES256 identity tokens through a JWKS URL', () => {
  let server: Server;
  let jwksUrl: string;
  const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};

  beforeAll(async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      keys[alg] = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: `kid-${alg}`, alg, use: 'sig' } };
    }
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: Object.values(keys).map((key) => key.jwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(['RS256', 'ES256'] as const)('accepts %s tokens signed by a published key', async (alg) => {
    const verifier = createIdentityTokenVerifier({ IDENTITY_JWKS_URL: jwksUrl })!;
    const token = await new SignJWT({ email: 'bob@example.com', exp: now() + 600 }).setProtectedHeader({ alg, kid: `kid-${alg}` }).sign(keys[alg]!.privateKey);
    await expect(verifier.verify(token)).resolves.toMatchObject({ email: 'bob@example.com' });
  });

  it('refuses a token signed by a key that is not published, and HS256 confusion', async () => {
    const verifier = createIdentityTokenVerifier({ IDENTITY_JWKS_URL: jwksUrl })!;
    const stranger = await generateKeyPair('ES256');
    const forged = await new SignJWT({ email: 'bob@example.com', exp: now() + 600 }).setProtectedHeader({ alg: 'ES256', kid: 'kid-ES256' }).sign(stranger.privateKey);
    expect(await refusal(verifier.verify(forged))).toBe('bad_signature');
    const hmac = await hs256({ email: 'bob@example.com', exp: now() + 600 });
    expect(await refusal(verifier.verify(hmac))).toBe('bad_signature');
  });
});
