/**
 * How the store is shared. Every entry is charged to whoever's request created it: a merchant of
 * the platform, a host key (chatbot) within it, or anonymous callers (panel sign-in attempts).
 * Each may hold at most its share of live entries, so no one of them can fill the store for the
 * others: three merchants flooding it leave more than half of it to everyone else.
 */
import type { Store } from './store.js';

export const STORE_SHARES = {
  /** One merchant of the platform, or the platform's sign-in lobby: of STORE_MAX_ENTRIES. */
  tenant: 0.1,
  /** One host key: of its merchant's quota (a single-merchant server: of STORE_MAX_ENTRIES). */
  hostKey: 0.5,
  /** Everyone not signed in yet (panel sign-in attempts by address), together: of the merchant's quota. */
  anonymous: 0.1,
} as const;

/** An owner of entries, and the live entries it may hold. */
export interface StoreOwner {
  /** Unique in the store; also names where a Redis store keeps the owner's count. */
  id: string;
  limit: number;
}

/** `share` of the parent's limit, at least one entry. */
export function ownerQuota(id: string, share: number, parentLimit: number): StoreOwner {
  if (!(share > 0 && share <= 1)) throw new RangeError(`A store owner's share must be in (0, 1], got ${share}`);
  return { id, limit: Math.max(1, Math.floor(parentLimit * share)) };
}

/** `owners` with one more nested owner, holding `share` of the innermost owner's quota (or of the whole store). */
export function withOwner(owners: readonly StoreOwner[], id: string, share: number, capacity: number): StoreOwner[] {
  return [...owners, ownerQuota(id, share, owners.at(-1)?.limit ?? capacity)];
}

/**
 * The store as one conversation's requests use it: what they create is charged to the conversation's
 * host key (`host:<name>:<id>`), so one chatbot flooding new conversations fills only its own share.
 */
export function conversationStore(store: Store, conversation: string): Store {
  const owner = conversationOwner(conversation);
  return owner !== conversation ? store.ownedBy(owner, STORE_SHARES.hostKey) : store;
}

/** Who created a conversation key: the host key (`host:<name>:<id>` → `host:<name>`); else the conversation itself (stdio). */
export function conversationOwner(conversation: string): string {
  const [kind, name] = conversation.split(':');
  return kind === 'host' && name ? `host:${name}` : conversation;
}

/** The quotas in words, for doctor: what each kind of owner may hold of a store of `maxEntries`. */
export function describeStoreQuotas(maxEntries: number): string {
  const count = (share: number) => Math.floor(maxEntries * share).toLocaleString('en-US');
  return (
    `holds at most ${maxEntries.toLocaleString('en-US')} live entries (STORE_MAX_ENTRIES); quotas: each host key ${count(STORE_SHARES.hostKey)}, ` +
    `callers not signed in ${count(STORE_SHARES.anonymous)} together; in platform mode each merchant ${count(STORE_SHARES.tenant)} ` +
    `and each of its host keys ${count(STORE_SHARES.tenant * STORE_SHARES.hostKey)}; over its quota a caller is answered "busy"`
  );
}
