/**
 * Restricted-key permissions, named as Stripe names them (`rak_<resource>_<read|write>`).
 *
 * Each route needs exactly one permission; expanding a field additionally needs read access to
 * the expanded resource. A restricted key lacking either gets Stripe's 403, which the SDK raises
 * as StripePermissionError — the case our own permission probing must handle.
 */
import type { ResourceKind } from './store.js';

export type Permission =
  | 'rak_customer_read'
  | 'rak_subscription_read'
  | 'rak_subscription_write'
  | 'rak_invoice_read'
  | 'rak_invoice_write'
  | 'rak_charge_read'
  | 'rak_payment_method_read'
  | 'rak_product_read'
  | 'rak_price_read'
  | 'rak_promotion_code_read'
  | 'rak_coupon_read'
  | 'rak_billing_portal_session_write'
  | 'rak_billing_portal_configuration_read'
  | 'rak_customer_balance_transaction_read'
  | 'rak_customer_balance_transaction_write'
  | 'rak_refund_read'
  | 'rak_refund_write';

/** Route (method + path pattern) → the permission it needs. The router reads it from here. */
export const ROUTE_PERMISSIONS = {
  'GET /v1/customers': 'rak_customer_read',
  'GET /v1/customers/search': 'rak_customer_read',
  'GET /v1/customers/:id': 'rak_customer_read',
  'GET /v1/customers/:id/balance_transactions': 'rak_customer_balance_transaction_read',
  'GET /v1/customers/:id/balance_transactions/:transaction': 'rak_customer_balance_transaction_read',
  'POST /v1/customers/:id/balance_transactions': 'rak_customer_balance_transaction_write',
  'GET /v1/subscriptions': 'rak_subscription_read',
  'GET /v1/subscriptions/:id': 'rak_subscription_read',
  'POST /v1/subscriptions/:id': 'rak_subscription_write',
  'GET /v1/invoices': 'rak_invoice_read',
  'GET /v1/invoices/:id': 'rak_invoice_read',
  'GET /v1/invoice_payments': 'rak_invoice_read',
  'POST /v1/invoices/:id/send': 'rak_invoice_write',
  'POST /v1/invoices/:id/pay': 'rak_invoice_write',
  // A preview has no side effects, so Stripe lets a read-only invoice key create one.
  'POST /v1/invoices/create_preview': 'rak_invoice_read',
  'GET /v1/charges': 'rak_charge_read',
  'GET /v1/charges/:id': 'rak_charge_read',
  // Refunds are their own resource in the restricted-key editor ("Refunds": Read / Write).
  'GET /v1/refunds': 'rak_refund_read',
  'GET /v1/refunds/:id': 'rak_refund_read',
  'POST /v1/refunds': 'rak_refund_write',
  'GET /v1/prices': 'rak_price_read',
  'GET /v1/products/:id': 'rak_product_read',
  'GET /v1/promotion_codes': 'rak_promotion_code_read',
  'GET /v1/coupons/:id': 'rak_coupon_read',
  'GET /v1/payment_methods/:id': 'rak_payment_method_read',
  'POST /v1/billing_portal/sessions': 'rak_billing_portal_session_write',
  'GET /v1/billing_portal/configurations': 'rak_billing_portal_configuration_read',
  'GET /v1/billing_portal/configurations/:id': 'rak_billing_portal_configuration_read',
} as const satisfies Record<string, Permission>;

export type RouteKey = keyof typeof ROUTE_PERMISSIONS;

/** The permission needed to see a resource when it is expanded into a response. */
export const READ_PERMISSION: Record<ResourceKind, Permission> = {
  customer: 'rak_customer_read',
  subscription: 'rak_subscription_read',
  invoice: 'rak_invoice_read',
  charge: 'rak_charge_read',
  price: 'rak_price_read',
  product: 'rak_product_read',
  promotion_code: 'rak_promotion_code_read',
  coupon: 'rak_coupon_read',
  payment_method: 'rak_payment_method_read',
  // A customer's legacy cards are read through the customer (GET /v1/customers/:id/sources).
  source: 'rak_customer_read',
  // Discounts are read as part of the object they sit on.
  discount: 'rak_coupon_read',
  customer_balance_transaction: 'rak_customer_balance_transaction_read',
  refund: 'rak_refund_read',
  'billing_portal.configuration': 'rak_billing_portal_configuration_read',
  'billing_portal.session': 'rak_billing_portal_session_write',
};

const KEY_PATTERN = /^(rk|sk)_(test|live)_[A-Za-z0-9_]+$/;

/** Which keys the fake accepts and what each may do. */
export class ApiKeyRegistry {
  private readonly revoked = new Set<string>();
  private readonly denied = new Map<string, Set<string>>();

  revoke(apiKey: string): void {
    this.revoked.add(apiKey);
  }

  restrict(apiKey: string, deniedPermissions: readonly string[]): void {
    const set = this.denied.get(apiKey) ?? new Set<string>();
    for (const p of deniedPermissions) set.add(p);
    this.denied.set(apiKey, set);
  }

  isValid(apiKey: string): boolean {
    return KEY_PATTERN.test(apiKey) && !this.revoked.has(apiKey);
  }

  allows(apiKey: string, permission: Permission): boolean {
    return !this.denied.get(apiKey)?.has(permission);
  }
}
