/**
 * One disclosure record: what a tool call (or a staff look-up) showed, to whom, and on whose
 * verification. Never keys, tokens, codes, full data or link URLs: only data categories.
 */

/** Where the call came from. */
export type AuditSurface = 'stdio' | 'mcp' | 'tools' | 'panel' | 'insight';

/** What kind of record: a call, a retention anchor, a note that personal fields were erased, or a step of an action request (src/actions/action-audit.ts). */
export type AuditKind = 'call' | 'anchor' | 'erasure' | 'action';

export type AuditOutcome = 'ok' | 'refused' | 'error';

/**
 * What a successful call disclosed, as categories a person can read in a data-subject answer.
 * The write a call performed is separate (`AuditWrite`).
 */
export type DataCategory =
  | 'customer_record'
  | 'subscription'
  | 'subscription.price'
  | 'discount'
  | 'upcoming_invoice'
  | 'invoices'
  | 'payments'
  | 'refunds'
  | 'payment_method.brand'
  | 'payment_method.last4'
  | 'payment_method.expiry'
  | 'billing_address'
  | 'credit_balance'
  | 'plans'
  | 'billing_portal_link'
  | 'verification_status';

export type AuditWrite = 'portal_session' | 'portal_cancel_session' | 'invoice_resent' | 'coupon_applied' | 'verification_code_sent' | 'email_verified';

/** What a surface hands the trail: personal fields are kept apart so erasure can drop them. */
export interface AuditEntry {
  at: string;
  kind: AuditKind;
  tenant_id: string | null;
  surface: AuditSurface | null;
  /** `host:acme-bot`, `staff:alice`, `panel:alice`, `stdio`. */
  caller: string | null;
  /** A hash of the server's conversation key, never the raw id. */
  conversation: string | null;
  principal: 'customer' | 'staff' | 'unverified' | null;
  verified_by: 'identity-token' | 'email-code' | 'trust-email' | null;
  /** The identity token's issuer, when the email was vouched for by a token. */
  issuer: string | null;
  /** True when the email was NOT verified (trust-email mode). */
  unverified: boolean;
  tool: string | null;
  outcome: AuditOutcome | null;
  /** For refused and error outcomes: the error kind (`not_verified`, `busy`, …). */
  reason: string | null;
  disclosed: DataCategory[];
  write: AuditWrite | null;
  /** Anchors and erasure notes: counts and the purged chain position (never personal data). */
  detail: Record<string, unknown> | null;
  /** Personal: the verified (or staff-chosen) email. */
  email: string | null;
  /** Personal: the Stripe customer ids the call touched. */
  customer_ids: string[];
}

/** A stored record: the entry plus its place in the chain. */
export interface AuditRow extends AuditEntry {
  seq: number;
  /** Random per record; erased with the personal fields so a guessed email cannot be checked. */
  salt: string | null;
  /** HMAC(salt, personal fields): the chain covers this, so erasure keeps it verifiable. */
  commitment: string;
  prev_hash: string;
  /** The id of the audit key the link is an HMAC under; null: written before the chain was keyed. */
  key_id: string | null;
  hash: string;
}

export interface AuditFilter {
  email?: string | undefined;
  customer?: string | undefined;
  /** ISO time: records at or after it. */
  since?: string | undefined;
  /** A hashed conversation (see `conversationHash`). */
  conversation?: string | undefined;
  tenant_id?: string | undefined;
  /** Only these surfaces (e.g. the assistant's: stdio, mcp, tools). */
  surfaces?: readonly AuditSurface[] | undefined;
  /** Newest first, at most this many (default 100). */
  limit?: number | undefined;
}

/** An entry with nothing filled in but the time and kind: anchors and erasure notes. */
export function systemEntry(kind: 'anchor' | 'erasure', detail: Record<string, unknown>, tenantId: string | null = null): AuditEntry {
  return {
    at: new Date().toISOString(),
    kind,
    tenant_id: tenantId,
    surface: null,
    caller: null,
    conversation: null,
    principal: null,
    verified_by: null,
    issuer: null,
    unverified: false,
    tool: null,
    outcome: null,
    reason: null,
    disclosed: [],
    write: null,
    detail,
    email: null,
    customer_ids: [],
  };
}
