import type { Logger } from '../log.js';
import type { GrantStore } from './grants.js';
import { hostFixFor, IdentityTokenError, type IdentityTokenVerifier } from './identity-token.js';
import { UNVERIFIED, type CustomerPrincipal, type UnverifiedVisitor } from './principal.js';

export interface CustomerIdentitySources {
  /** A host-signed identity token for this request or process, if the host sent one. */
  token: string | undefined;
  verifier: IdentityTokenVerifier | undefined;
  grants: GrantStore | undefined;
  /** The conversation key the server derived (never the model). */
  conversation: string | undefined;
  log: Logger;
}

/**
 * Who the customer is, from what the server knows: a valid host-signed token first (the host
 * is the authority on its logged-in user), else this conversation's verification grant. A
 * token that is present but invalid does not fall back to a grant: the host said something
 * and it did not check out.
 */
export async function resolveCustomerPrincipal(sources: CustomerIdentitySources): Promise<CustomerPrincipal | UnverifiedVisitor> {
  if (sources.token) {
    if (!sources.verifier) return UNVERIFIED;
    try {
      return await sources.verifier.verify(sources.token);
    } catch (error) {
      sources.log.warn({ reason: error instanceof IdentityTokenError ? error.reason : 'malformed' }, 'identity token refused');
      const hostFix = hostFixFor(error);
      return hostFix ? { ...UNVERIFIED, hostFix } : UNVERIFIED;
    }
  }
  if (sources.grants && sources.conversation) {
    const grant = await sources.grants.use(sources.conversation);
    if (grant) return { kind: 'customer', email: grant.email, verifiedBy: grant.verifiedBy };
  }
  return UNVERIFIED;
}
