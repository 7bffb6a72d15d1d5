import type { Logger } from '../log.js';
import { resolveCustomerPrincipal } from './customer-identity.js';
import type { GrantStore } from './grants.js';
import type { IdentityTokenVerifier } from './identity-token.js';
import { staffPrincipal, type Principal } from './principal.js';

/** Who authenticated the HTTP request: a chatbot host key or a staff key (by its name). */
export interface HttpCaller {
  kind: 'host' | 'staff';
  name: string;
}

const CONVERSATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export class ConversationIdError extends Error {
  constructor() {
    super('X-Conversation-Id must be 1–128 characters of letters, digits, ".", "_", ":" or "-".');
  }
}

/**
 * The conversation key a grant belongs to: the host key's name plus the host's conversation id,
 * so one host can never name another host's conversations, whatever id it sends.
 */
export function conversationKey(caller: HttpCaller, conversationId: string | undefined): string | undefined {
  if (caller.kind !== 'host' || conversationId === undefined) return undefined;
  if (!CONVERSATION_ID.test(conversationId)) throw new ConversationIdError();
  return `host:${caller.name}:${conversationId}`;
}

export interface RequestIdentity {
  caller: HttpCaller;
  /** X-Customer-Token: the host's signed statement of its logged-in user. */
  customerToken: string | undefined;
  conversation: string | undefined;
}

/**
 * The principal of one HTTP request, decided from what the server authenticated: staff keys are
 * staff; host keys are a customer by token, else by this conversation's grant, else unverified.
 */
export async function resolveRequestPrincipal(
  identity: RequestIdentity,
  deps: { verifier: IdentityTokenVerifier | undefined; grants: GrantStore | undefined; log: Logger },
): Promise<Principal> {
  if (identity.caller.kind === 'staff') return staffPrincipal(identity.caller.name);
  return resolveCustomerPrincipal({ token: identity.customerToken, verifier: deps.verifier, grants: deps.grants, conversation: identity.conversation, log: deps.log });
}
