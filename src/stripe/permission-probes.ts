/**
 * Which restricted-key permissions a key has, learned without changing anything on the account.
 *
 * Stripe checks a restricted key's permissions before it looks at the request, so each probe is
 * the cheapest request that needs exactly one permission: a `list({limit: 1})` where one exists,
 * else a read or write of an id that cannot exist. A 403 (StripePermissionError) means the
 * permission is missing; a 200, 400 or 404 means Stripe let the request through. Writes aimed at
 * an id that does not exist change nothing. Should Stripe ever look up an object before checking
 * the permission, a probe would read "granted" wrongly: the tool then stays listed and answers
 * "not available" with the permission in the log, as it did before the probe existed.
 */
import type Stripe from 'stripe';
import { StripeErrors } from './sdk.js';

/** A permission the probe knows how to test, with what the Dashboard calls it. */
export interface PermissionInfo {
  /** Where to find it in Dashboard → Developers → API keys → restricted key. */
  label: string;
  /** Absent for the endpoints that move money: see rak_refund_write. */
  probe?: (stripe: Stripe) => Promise<unknown>;
}

/** Permissions a request can be probed for (every one but those that move money). */
export function isProbeable(permission: string): boolean {
  return PERMISSIONS[permission]?.probe !== undefined;
}

/** Ids that no Stripe object can have, so a probe of them finds nothing and changes nothing. */
const PROBE_ID = 'doctor_probe_does_not_exist';

export const PERMISSIONS: Readonly<Record<string, PermissionInfo>> = {
  rak_customer_read: { label: 'Customers: Read', probe: (s) => s.customers.list({ limit: 1 }) },
  rak_subscription_read: { label: 'Subscriptions: Read', probe: (s) => s.subscriptions.list({ limit: 1 }) },
  rak_subscription_write: { label: 'Subscriptions: Write', probe: (s) => s.subscriptions.update(`sub_${PROBE_ID}`, {}) },
  rak_invoice_read: { label: 'Invoices: Read', probe: (s) => s.invoices.list({ limit: 1 }) },
  rak_invoice_write: { label: 'Invoices: Write', probe: (s) => s.invoices.sendInvoice(`in_${PROBE_ID}`) },
  rak_charge_read: { label: 'Charges: Read', probe: (s) => s.charges.list({ limit: 1 }) },
  rak_payment_method_read: { label: 'PaymentMethods: Read', probe: (s) => s.paymentMethods.retrieve(`pm_${PROBE_ID}`) },
  rak_product_read: { label: 'Products: Read', probe: (s) => s.products.retrieve(`prod_${PROBE_ID}`) },
  rak_price_read: { label: 'Prices: Read', probe: (s) => s.prices.list({ limit: 1 }) },
  rak_promotion_code_read: { label: 'Promotion Codes: Read', probe: (s) => s.promotionCodes.list({ limit: 1 }) },
  rak_coupon_read: { label: 'Coupons: Read', probe: (s) => s.coupons.retrieve(PROBE_ID) },
  rak_customer_balance_transaction_read: {
    label: 'Customer balance transactions: Read',
    probe: (s) => s.customers.listBalanceTransactions(`cus_${PROBE_ID}`, { limit: 1 }),
  },
  rak_billing_portal_session_write: {
    label: 'Customer portal: Write',
    probe: (s) => s.billingPortal.sessions.create({ customer: `cus_${PROBE_ID}` }),
  },
  rak_billing_portal_configuration_read: {
    label: 'Customer portal: Read',
    probe: (s) => s.billingPortal.configurations.list({ limit: 1 }),
  },
  // Money moves through these endpoints only as a confirmed request of the actions engine
  // (src/actions: policy, confirmation, approval, exactly once, the trail), so nothing else calls
  // them, not even aimed at an id that cannot exist: no probe, and doctor says it cannot check.
  rak_refund_write: { label: 'Refunds: Write' },
  rak_customer_balance_transaction_write: { label: 'Customer balance transactions: Write' },
};

export type PermissionState = 'granted' | 'missing' | 'unknown';

/** What one probe learned. `keyRefused`: Stripe does not accept the key at all (401). */
export interface ProbeOutcome {
  state: PermissionState;
  keyRefused?: boolean;
  /** Why the answer is unknown (rate limited, Stripe unavailable); never Stripe's own text. */
  reason?: string;
}

export function classifyProbeError(error: unknown): ProbeOutcome {
  if (error instanceof StripeErrors.StripePermissionError) return { state: 'missing' };
  if (error instanceof StripeErrors.StripeAuthenticationError) return { state: 'unknown', keyRefused: true, reason: 'Stripe refused the key' };
  if (error instanceof StripeErrors.StripeRateLimitError) return { state: 'unknown', reason: 'Stripe rate-limited the check' };
  if (error instanceof StripeErrors.StripeConnectionError) return { state: 'unknown', reason: 'Stripe could not be reached' };
  if (error instanceof StripeErrors.StripeError && (error.statusCode ?? 0) >= 500) return { state: 'unknown', reason: 'Stripe is unavailable' };
  // 400/404 on a made-up id: Stripe let the request past its permission check.
  if (error instanceof StripeErrors.StripeInvalidRequestError) return { state: 'granted' };
  return { state: 'unknown', reason: 'the check failed unexpectedly' };
}

/** Probes each named permission once, in parallel. Unknown names are reported as unknown. */
export async function probePermissions(stripe: Stripe, permissions: readonly string[]): Promise<Map<string, ProbeOutcome>> {
  const unique = [...new Set(permissions)].sort();
  const outcomes = await Promise.all(
    unique.map(async (permission): Promise<[string, ProbeOutcome]> => {
      const info = PERMISSIONS[permission];
      if (!info?.probe) return [permission, { state: 'unknown', reason: 'no probe for this permission' }];
      try {
        await info.probe(stripe);
        return [permission, { state: 'granted' }];
      } catch (error) {
        return [permission, classifyProbeError(error)];
      }
    }),
  );
  return new Map(outcomes);
}
