/**
 * Who a tool call runs for. Resolved by the server from the transport (environment, request
 * headers, grants), never from tool arguments.
 */
export type Principal = StaffPrincipal | CustomerPrincipal | UnverifiedVisitor;

export interface StaffPrincipal {
  kind: 'staff';
  /** Which staff credential: `stdio` or the STAFF_KEYS name. */
  name: string;
}

export type VerificationMethod = 'identity-token' | 'email-code' | 'trust-email';

export interface CustomerPrincipal {
  kind: 'customer';
  /** Normalised (trimmed, lower-cased) verified email. */
  email: string;
  verifiedBy: VerificationMethod;
  /** Identity tokens: the `iss` claim (the audit trail records who vouched for the email). */
  issuer?: string;
}

/** Customer mode before any verification: account-level tools only. */
export interface UnverifiedVisitor {
  kind: 'unverified';
  /** The host's identity token was refused for a set-up mistake the host must fix: said in the refusal. */
  hostFix?: string;
}

export function staffPrincipal(name: string): StaffPrincipal {
  return { kind: 'staff', name };
}

export function customerPrincipal(email: string, verifiedBy: VerificationMethod): CustomerPrincipal {
  return { kind: 'customer', email: normalizeEmail(email), verifiedBy };
}

export const UNVERIFIED: UnverifiedVisitor = { kind: 'unverified' };

/** Emails are compared trimmed and case-folded, as the customer lookup does. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// Deliberately plain: RFC 5322 admits far more, but a billing email a person types has one @,
// a dotted domain and no spaces, quotes or control characters (which also keeps it out of
// search-query syntax, and out of trouble in the databases the audit trail writes).
// eslint-disable-next-line no-control-regex
const EMAIL_PATTERN = /^[^\s@"\\\u0000-\u001f\u007f]+@[^\s@"\\\u0000-\u001f\u007f]+\.[^\s@"\\\u0000-\u001f\u007f]+$/;

export function isPlausibleEmail(email: string): boolean {
  const trimmed = email.trim();
  // A lone surrogate half is no text a person typed (and no database stores it as given).
  return trimmed.length <= 254 && trimmed.isWellFormed() && EMAIL_PATTERN.test(trimmed);
}

/**
 * Whether `principal` is the verified customer of this email (a request, a record) — the one
 * identity comparison every surface asks; an unverified visitor or staff key is nobody's customer.
 */
export function isCustomerWithEmail(principal: Principal, email: string | null): boolean {
  return principal.kind === 'customer' && email !== null && normalizeEmail(principal.email) === normalizeEmail(email);
}

/** VERIFY_MODE=trust-email: the email was typed, not proven by a token or a code. */
export function isUnprovenCustomer(principal: Principal): boolean {
  return principal.kind === 'customer' && principal.verifiedBy === 'trust-email';
}

/**
 * Who a principal is, as one string a stored grant can be compared with: `customer:<email>` or
 * `staff:<name>`; undefined for a visitor nobody verified.
 */
export function principalKey(principal: Principal): string | undefined {
  if (principal.kind === 'customer') return `customer:${principal.email}`;
  if (principal.kind === 'staff') return `staff:${principal.name}`;
  return undefined;
}
