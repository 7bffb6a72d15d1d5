import type { Logger } from '../log.js';
import { IdentityTokenError, type IdentityTokenVerifier } from './identity-token.js';
import { staffPrincipal, UNVERIFIED, type Principal } from './principal.js';

export interface StdioPrincipalOptions {
  staff: boolean;
  /** CUSTOMER_TOKEN: the host-signed identity of this process's one customer. */
  customerToken: string | undefined;
  verifier: IdentityTokenVerifier | undefined;
  log: Logger;
}

/**
 * Over stdio the conversation is the process. The token is checked on every call rather than
 * once, so an expired token stops working mid-session instead of living as long as the process.
 */
export function stdioPrincipalResolver(options: StdioPrincipalOptions): () => Promise<Principal> {
  if (options.staff) {
    const staff = staffPrincipal('stdio');
    return async () => staff;
  }
  const { customerToken, verifier, log } = options;
  if (!customerToken || !verifier) return async () => UNVERIFIED;
  let lastReason: string | undefined;
  return async () => {
    try {
      const principal = await verifier.verify(customerToken);
      lastReason = undefined;
      return principal;
    } catch (error) {
      const reason = error instanceof IdentityTokenError ? error.reason : 'malformed';
      if (reason !== lastReason) log.warn({ reason }, 'CUSTOMER_TOKEN refused; customer tools will answer "not verified"');
      lastReason = reason;
      return UNVERIFIED;
    }
  };
}
