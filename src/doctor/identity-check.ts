import { importJWK, type JWK } from 'jose';
import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { createIdentityTokenVerifier } from '../verify/identity-token.js';

export interface IdentityCheck {
  kind: 'hs256' | 'jwks' | 'none';
  status: 'ok' | 'fail' | 'off';
  detail: string;
  fix?: string;
}

const JWKS_TIMEOUT_MS = 5_000;

/** Keys of a JWKS document that verify RS256 or ES256 tokens (what the identity verifier accepts). */
async function usableKeys(document: unknown): Promise<number> {
  const keys = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) return -1;
  let usable = 0;
  for (const jwk of keys as JWK[]) {
    const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined);
    if (alg !== 'RS256' && alg !== 'ES256') continue;
    try {
      await importJWK(jwk, alg);
      usable += 1;
    } catch {
      // A malformed key is skipped, as the verifier would skip it.
    }
  }
  return usable;
}

/** Is the identity-token set-up usable: a long enough secret, or a JWKS that answers with usable keys. */
export async function checkIdentityTokens(settings: Settings, fetchImpl: typeof fetch = fetch): Promise<IdentityCheck> {
  // The same validation the server does at start-up, so doctor never passes what serve refuses.
  let verifier: ReturnType<typeof createIdentityTokenVerifier>;
  try {
    verifier = createIdentityTokenVerifier(settings);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return { kind: 'none', status: 'fail', detail: 'the identity-token settings contradict each other', fix: error.message };
  }
  if (settings.CUSTOMER_TOKEN && !verifier) {
    return { kind: 'none', status: 'fail', detail: 'CUSTOMER_TOKEN is set but nothing can verify it', fix: 'Set IDENTITY_SECRET or IDENTITY_JWKS_URL to what the host signs tokens with.' };
  }
  if (settings.IDENTITY_SECRET) {
    // loadSettings already refused secrets under 32 bytes.
    return { kind: 'hs256', status: 'ok', detail: `HS256 with a ${Buffer.byteLength(settings.IDENTITY_SECRET)}-byte IDENTITY_SECRET` };
  }
  const url = settings.IDENTITY_JWKS_URL;
  if (!url) {
    return { kind: 'none', status: 'off', detail: 'no IDENTITY_SECRET or IDENTITY_JWKS_URL: logged-in visitors cannot be identified by a host-signed token' };
  }
  const host = new URL(url).host;
  const fix = 'IDENTITY_JWKS_URL must answer a JSON Web Key Set ({"keys": [...]}) with at least one RS256 or ES256 public key.';
  let document: unknown;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!response.ok) return { kind: 'jwks', status: 'fail', detail: `the JWKS at ${host} answered HTTP ${response.status}`, fix };
    document = await response.json();
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not JSON' : 'could not be reached';
    return { kind: 'jwks', status: 'fail', detail: `the JWKS at ${host} ${reason}`, fix };
  }
  const usable = await usableKeys(document);
  if (usable < 0) return { kind: 'jwks', status: 'fail', detail: `the JWKS at ${host} has no "keys" array`, fix };
  if (usable === 0) return { kind: 'jwks', status: 'fail', detail: `the JWKS at ${host} has no RS256 or ES256 key`, fix };
  return { kind: 'jwks', status: 'ok', detail: `JWKS at ${host} with ${usable} usable key${usable === 1 ? '' : 's'}` };
}
