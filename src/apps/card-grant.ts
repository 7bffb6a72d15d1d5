import { createHash, randomBytes } from 'node:crypto';
import type { ToolRuntime } from '../tools/lib/context.js';
import { principalKey, type Principal } from '../verify/principal.js';

/**
 * The card-issued secret. A result that renders the card hands it a fresh random token (in
 * `_meta`, never in what the model reads); the card's buttons send it back, and an app-only tool
 * acts only for the principal, conversation and customer the token was issued to. The shared
 * store keeps a hash of it, so every process behind a load balancer knows it and none can read it back.
 */

/** Long enough for a person to read the card and press a button; a fresh answer issues a new one. */
export const CARD_GRANT_TTL_MS = 30 * 60_000;

const PREFIX = 'card:';

interface CardGrant {
  /** `principalKey` (src/verify/principal.ts) of who the card was shown to. */
  subject: string;
  conversation: string | null;
  /** The Stripe customer the card is about (staff choose it; for a customer it is theirs). */
  customer_id: string | null;
}

function storeKey(token: string): string {
  return PREFIX + createHash('sha256').update(token).digest('base64url');
}

/** A new grant for the card about to be shown; undefined for a visitor nobody verified. */
export async function issueCardGrant(
  runtime: Pick<ToolRuntime, 'store'>,
  principal: Principal,
  conversation: string | undefined,
  customerId: string | undefined,
): Promise<{ token: string; expires_at: string } | undefined> {
  const subject = principalKey(principal);
  if (!subject) return undefined;
  const token = randomBytes(32).toString('base64url');
  const grant: CardGrant = { subject, conversation: conversation ?? null, customer_id: customerId ?? null };
  await runtime.store.set(storeKey(token), JSON.stringify(grant), CARD_GRANT_TTL_MS);
  return { token, expires_at: new Date(Date.now() + CARD_GRANT_TTL_MS).toISOString() };
}

/**
 * The customer a card token was issued for, when it was issued to this principal in this
 * conversation; undefined for an unknown, expired or someone else's token (one answer for all).
 */
export async function cardGrantFor(
  runtime: Pick<ToolRuntime, 'store'>,
  principal: Principal,
  conversation: string | undefined,
  token: unknown,
): Promise<{ customer_id: string | null } | undefined> {
  const subject = principalKey(principal);
  if (!subject || typeof token !== 'string' || token.length < 32 || token.length > 128) return undefined;
  const stored = await runtime.store.get(storeKey(token));
  if (stored === undefined) return undefined;
  let grant: CardGrant;
  try {
    grant = JSON.parse(stored) as CardGrant;
  } catch {
    return undefined;
  }
  if (grant.subject !== subject || grant.conversation !== (conversation ?? null)) return undefined;
  return { customer_id: grant.customer_id };
}
