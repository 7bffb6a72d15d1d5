import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { resolveCustomerPrincipal } from './customer-identity.js';
import type { GrantStore } from './grants.js';
import type { IdentityTokenVerifier } from './identity-token.js';
import { staffPrincipal, type Principal } from './principal.js';

export interface StdioPrincipalOptions {
  staff: boolean;
  /** CUSTOMER_TOKEN: the host-signed identity of this process's one customer. */
  customerToken: string | undefined;
  verifier: IdentityTokenVerifier | undefined;
  grants: GrantStore | undefined;
  log: Logger;
}

/** Over stdio the conversation is the process: a random key no other process can name. */
export function stdioConversationKey(): string {
  return `stdio:${randomUUID()}`;
}

/**
 * The token is checked on every call rather than once, so an expired token stops working
 * mid-session instead of living as long as the process; without a token, an email-code grant
 * for this process's conversation identifies the customer.
 */
export function stdioPrincipalResolver(options: StdioPrincipalOptions, conversation: string): () => Promise<Principal> {
  if (options.staff) {
    const staff = staffPrincipal('stdio');
    return async () => staff;
  }
  return () => resolveCustomerPrincipal({ token: options.customerToken, verifier: options.verifier, grants: options.grants, conversation, log: options.log });
}
