import { ToolError } from '../errors.js';
import type { Store } from './store.js';
import { conversationStore } from './store-quotas.js';
import { customerPrincipal, normalizeEmail, type CustomerPrincipal, type VerificationMethod } from './principal.js';

export interface GrantPolicy {
  /** Absolute lifetime of a verification, from the moment it was granted. */
  maxAgeMs: number;
  /** A grant unused for this long lapses. */
  idleMs: number;
}

export const DEFAULT_GRANT_POLICY: GrantPolicy = { maxAgeMs: 24 * 3600_000, idleMs: 3600_000 };

interface StoredGrant {
  email: string;
  method: VerificationMethod;
  grantedAt: number;
  lastUsedAt: number;
}

export interface Grant extends CustomerPrincipal {
  grantedAt: string;
  expiresAt: string;
}

/**
 * A verified email bound to one conversation key, which the model cannot choose (stdio: the
 * process; HTTP: host key name + conversation id). Each use slides the idle window, never
 * past the absolute lifetime.
 */
export class GrantStore {
  /** Told of each grant made (the runtime warms the customer's reads: src/cache/warm-customer.ts). */
  onGranted: (email: string) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly policy: GrantPolicy = DEFAULT_GRANT_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  private key(conversation: string): string {
    return `grant:${conversation}`;
  }

  /** A grant is charged to its conversation's host key, like the codes that led to it. */
  private storeOf(conversation: string): Store {
    return conversationStore(this.store, conversation);
  }

  async grant(conversation: string, email: string, method: VerificationMethod): Promise<Grant> {
    const now = this.now();
    const stored: StoredGrant = { email: customerPrincipal(email, method).email, method, grantedAt: now, lastUsedAt: now };
    await this.storeOf(conversation).set(this.key(conversation), JSON.stringify(stored), Math.min(this.policy.idleMs, this.policy.maxAgeMs));
    this.onGranted(stored.email);
    return this.describe(stored);
  }

  /**
   * The conversation's grant if it is still live, with its remaining absolute lifetime; a lapsed
   * one is deleted. Checked here as well as by the store's TTL, so the policy holds on any clock.
   */
  private async live(conversation: string, now: number): Promise<{ stored: StoredGrant; raw: string; remaining: number } | undefined> {
    const raw = await this.storeOf(conversation).get(this.key(conversation));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredGrant;
    const remaining = stored.grantedAt + this.policy.maxAgeMs - now;
    if (remaining <= 0 || now - stored.lastUsedAt >= this.policy.idleMs) {
      // Only this lapsed grant: a new one granted meanwhile stays.
      await this.storeOf(conversation).compareAndDelete(this.key(conversation), raw);
      return undefined;
    }
    return { stored, raw, remaining };
  }

  /**
   * The conversation's live grant, refreshed for idle purposes; undefined when none or lapsed.
   * The refresh is a compare-and-set: a grant made meanwhile (another email verified in the same
   * conversation) is never overwritten by the old one; that newer grant is the answer.
   */
  async use(conversation: string): Promise<Grant | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.now();
      const found = await this.live(conversation, now);
      if (!found) return undefined;
      const refreshed: StoredGrant = { ...found.stored, lastUsedAt: now };
      const saved = await this.storeOf(conversation)
        .compareAndSet(this.key(conversation), found.raw, JSON.stringify(refreshed), Math.min(this.policy.idleMs, found.remaining))
        // A full Redis refuses even this update: the grant is still live, just not refreshed.
        .catch((error: unknown) => (error instanceof ToolError && error.kind === 'busy' ? 'full' : Promise.reject(error)));
      if (saved === 'full') return this.describe(found.stored);
      if (saved) return this.describe(refreshed);
    }
    // Still changing under us: answer with what is there now, unrefreshed.
    const current = await this.live(conversation, this.now());
    return current && this.describe(current.stored);
  }

  /**
   * Whether the conversation has a live grant for exactly this email, without using it: a
   * support agent looking does not extend the visitor's verification, and learns nothing else
   * (not another email, not the method or times).
   */
  async isVerified(conversation: string, email: string): Promise<boolean> {
    const found = await this.live(conversation, this.now());
    return found !== undefined && found.stored.email === normalizeEmail(email);
  }

  async revoke(conversation: string): Promise<void> {
    await this.storeOf(conversation).delete(this.key(conversation));
  }

  private describe(stored: StoredGrant): Grant {
    const idleEnd = this.now() + this.policy.idleMs;
    const absoluteEnd = stored.grantedAt + this.policy.maxAgeMs;
    return {
      ...customerPrincipal(stored.email, stored.method),
      grantedAt: new Date(stored.grantedAt).toISOString(),
      expiresAt: new Date(Math.min(idleEnd, absoluteEnd)).toISOString(),
    };
  }
}
