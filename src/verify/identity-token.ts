import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { ConfigurationError } from '../errors.js';
import { sha256 } from '../sha256.js';
import { customerPrincipal, isPlausibleEmail, type CustomerPrincipal } from './principal.js';

export interface IdentityTokenSettings {
  IDENTITY_SECRET?: string | undefined;
  IDENTITY_JWKS_URL?: string | undefined;
  IDENTITY_ISSUER?: string | undefined;
  IDENTITY_AUDIENCE?: string | undefined;
  /** Longest lifetime accepted, in seconds (IDENTITY_MAX_AGE; default 24 h). */
  IDENTITY_MAX_AGE?: number | undefined;
}

const DEFAULT_IDENTITY_MAX_AGE_SECONDS = 24 * 60 * 60;

/** Why a token was refused; logged, and safe to tell the host (never includes the token). */
export class IdentityTokenError extends Error {
  constructor(
    readonly reason: 'expired' | 'not_yet_valid' | 'bad_signature' | 'malformed' | 'claims' | 'too_long_lived' | 'not_configured' | 'audience_missing' | 'audience_other',
  ) {
    super(`identity token refused: ${reason}`);
    this.name = 'IdentityTokenError';
  }
}

/**
 * Refusals that are the host's set-up mistake rather than a visitor's stale token: said in the
 * tool's answer too (a platform developer reading only `not_verified` cannot find them), in
 * words that name no tenant, token or secret.
 */
const HOST_FIXES: Partial<Record<IdentityTokenError['reason'], string>> = {
  audience_missing:
    "The identity token sent in X-Customer-Token was refused because it has no `aud` claim: on this platform `aud` must be the merchant's tenant id (ten_…).",
  audience_other:
    "The identity token sent in X-Customer-Token was refused because its `aud` claim names another merchant: it must be this merchant's tenant id (ten_…).",
};

/** The sentence for the host when a refusal is its set-up mistake; undefined otherwise. */
export function hostFixFor(error: unknown): string | undefined {
  return error instanceof IdentityTokenError ? HOST_FIXES[error.reason] : undefined;
}

const CLOCK_TOLERANCE_SECONDS = 5;
/** How long a checked token is taken as checked (a JWKS key rotated away stops working within this). */
const VERIFIED_TOKEN_CACHE_MS = 5 * 60_000;

export interface IdentityTokenVerifier {
  verify(token: string): Promise<CustomerPrincipal>;
}

/**
 * Verifies the merchant backend's signed statement "this visitor is <email>" (the Intercom /
 * Zendesk identity-verification pattern). HS256 with a shared secret, or RS256/ES256 keys
 * from a JWKS URL; `email` and `exp` are required, `alg: none` never verifies.
 */
export function createIdentityTokenVerifier(
  settings: IdentityTokenSettings,
  /** Told of each token checked for the first time (the runtime warms the customer's reads). */
  onVerified: (principal: CustomerPrincipal) => void = () => {},
): IdentityTokenVerifier | undefined {
  if (settings.IDENTITY_SECRET && settings.IDENTITY_JWKS_URL) {
    throw new ConfigurationError('Set either IDENTITY_SECRET (HS256) or IDENTITY_JWKS_URL (RS256/ES256), not both.');
  }
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (settings.IDENTITY_SECRET) {
    key = new TextEncoder().encode(settings.IDENTITY_SECRET);
    algorithms = ['HS256'];
  } else if (settings.IDENTITY_JWKS_URL) {
    key = createRemoteJWKSet(new URL(settings.IDENTITY_JWKS_URL), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    algorithms = ['RS256', 'ES256'];
  } else {
    return undefined;
  }

  // A host sends the same token with every message of a chat: checking its signature once per
  // few minutes is enough, and it was the largest cost of a cached answer. Keyed by a hash, so
  // no token is kept; an entry never outlives the token's own `exp`.
  const verified = new LRUCache<string, { principal: CustomerPrincipal; expMs: number }>({ max: 10_000 });

  return {
    async verify(token: string): Promise<CustomerPrincipal> {
      const cacheKey = sha256(token, 'base64url');
      const known = verified.get(cacheKey);
      if (known && Date.now() < known.expMs) return known.principal;
      let payload: Record<string, unknown>;
      try {
        const result = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          requiredClaims: ['exp', 'email'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          ...(settings.IDENTITY_ISSUER ? { issuer: settings.IDENTITY_ISSUER } : {}),
          ...(settings.IDENTITY_AUDIENCE ? { audience: settings.IDENTITY_AUDIENCE } : {}),
        });
        payload = result.payload;
      } catch (error) {
        throw new IdentityTokenError(classify(error));
      }
      const email = payload.email;
      if (typeof email !== 'string' || !isPlausibleEmail(email)) throw new IdentityTokenError('claims');
      // A host may say it has not verified the address itself; anything but `true` (or no claim) is refused.
      if (payload.email_verified !== undefined && payload.email_verified !== true) throw new IdentityTokenError('claims');
      checkLifetime(payload, settings.IDENTITY_MAX_AGE ?? DEFAULT_IDENTITY_MAX_AGE_SECONDS);
      const issuer = typeof payload.iss === 'string' ? payload.iss.slice(0, 200) : undefined;
      const principal = { ...customerPrincipal(email, 'identity-token'), ...(issuer ? { issuer } : {}) };
      // The token's exp is rechecked on every hit: the entry's own TTL follows a monotonic clock.
      const expMs = Number(payload.exp) * 1000;
      if (expMs > Date.now()) verified.set(cacheKey, { principal, expMs }, { ttl: VERIFIED_TOKEN_CACHE_MS });
      onVerified(principal);
      return principal;
    },
  };
}

/**
 * A stolen token must not work for long: `exp` may lie at most `maxAge` after `iat` (or after
 * now, for tokens made without `iat`, as the README shows), and `iat` may not be in the future.
 * Our own check, because jose's `maxTokenAge` would make `iat` required.
 */
function checkLifetime(payload: Record<string, unknown>, maxAgeSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = payload;
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw new IdentityTokenError('claims');
  if (typeof iat === 'number' && iat > now + CLOCK_TOLERANCE_SECONDS) throw new IdentityTokenError('not_yet_valid');
  const from = typeof iat === 'number' ? iat : now;
  if (Number(exp) - from > maxAgeSeconds + CLOCK_TOLERANCE_SECONDS) throw new IdentityTokenError('too_long_lived');
}

function classify(error: unknown): IdentityTokenError['reason'] {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.claim === 'nbf' || error.claim === 'iat' ? 'not_yet_valid' : 'claims';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return 'bad_signature';
  }
  return 'malformed';
}

/**
 * Platform mode: the platform's tokens, for one merchant. A token must name that merchant (its
 * tenant id) in `aud`, so a token one merchant's site minted for its user opens nothing at
 * another merchant's, whose customer may share the email.
 */
export function tokensForAudience(verifier: IdentityTokenVerifier, audience: string): IdentityTokenVerifier {
  return {
    async verify(token) {
      const principal = await verifier.verify(token);
      // The signature and claims are checked above; only then is the audience read.
      const claimed = decodeJwt(token).aud;
      if (claimed === undefined || (Array.isArray(claimed) && claimed.length === 0)) throw new IdentityTokenError('audience_missing');
      if (!(claimed === audience || (Array.isArray(claimed) && claimed.includes(audience)))) throw new IdentityTokenError('audience_other');
      return principal;
    },
  };
}
