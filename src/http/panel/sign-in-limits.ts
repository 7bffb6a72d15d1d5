/**
 * The panel's sign-in limits per client address, counted in the shared store. One instance per
 * place that counts: a single-merchant server's own store, or, in platform mode, one slice of the
 * platform's store shared by the lobby and every merchant's panel (the merchant is known only once
 * the key is looked up, and the lockout must hold before that).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Store } from '../../verify/store.js';
import { clientKey, forwardedClientAddress } from '../client-connections.js';
import { STORE_SHARES } from '../../verify/store-quotas.js';

/** Failed sign-ins per client address per window. */
export const SIGN_IN_FAILURES_ALLOWED = 10;
/**
 * All sign-ins per address per window: counted atomically before the key is checked, so a burst
 * of parallel guesses cannot all slip past the failure count while it is still being written.
 */
export const SIGN_IN_ATTEMPTS_ALLOWED = 60;
export const SIGN_IN_WINDOW_MS = 15 * 60_000;

/**
 * Who is signing in, for the limits. Behind TRUST_PROXY proxies the connection is the proxy's, so
 * the client is the address the outermost trusted proxy saw (X-Forwarded-For, counted from the
 * right: entries further left are whatever the client wrote).
 */
export function clientAddress(c: Context, trustedProxies: number): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined; // not served by node (app.request in a test)
  }
  // Counted the way the connection cap counts (IPv6 per /64), so both agree on who the client is.
  return clientKey(forwardedClientAddress(c.req.header('x-forwarded-for'), peer, trustedProxies));
}

export class SignInLimits {
  private readonly store: Store;

  constructor(store: Store) {
    // Counted before anyone is known: every address together may hold only the anonymous share of the store.
    this.store = store.ownedBy('anonymous', STORE_SHARES.anonymous);
  }

  private attemptsKey(address: string): string {
    return `panel-signin-attempts:${address}`;
  }

  private failuresKey(address: string): string {
    return `panel-signin-failures:${address}`;
  }

  /**
   * Counts this attempt, then says whether the address may try a key at all. Throws the store's
   * `busy` ToolError when a full store cannot take the count.
   */
  async admit(address: string): Promise<boolean> {
    const attempts = await this.store.increment(this.attemptsKey(address), SIGN_IN_WINDOW_MS);
    return attempts <= SIGN_IN_ATTEMPTS_ALLOWED && !(await this.tooManyFailures(address));
  }

  /** Read-only: is the address locked out now? (Platform mode asks before looking up the key.) */
  async isLocked(address: string): Promise<boolean> {
    const attempts = Number((await this.store.get(this.attemptsKey(address))) ?? 0);
    return attempts >= SIGN_IN_ATTEMPTS_ALLOWED || (await this.tooManyFailures(address));
  }

  async recordFailure(address: string): Promise<void> {
    await this.store.increment(this.failuresKey(address), SIGN_IN_WINDOW_MS);
  }

  private async tooManyFailures(address: string): Promise<boolean> {
    return Number((await this.store.get(this.failuresKey(address))) ?? 0) >= SIGN_IN_FAILURES_ALLOWED;
  }
}
