/**
 * The fake account's data: one typed map per resource, keyed by id.
 *
 * Tests reach in through `fake.store` to add or change objects (`store.customers.set(...)`);
 * handlers read and write the same maps. Objects are kept as the SDK's own types, and the
 * dispatcher serialises a copy for every response so callers can never mutate the store.
 */
import type Stripe from 'stripe';

export interface SentInvoiceRecord {
  invoice: string;
  at: number;
}

/** Resources that can be looked up by id, e.g. to expand a field or resolve a cursor. */
export type ResourceKind =
  | 'customer'
  | 'subscription'
  | 'invoice'
  | 'charge'
  | 'price'
  | 'product'
  | 'promotion_code'
  | 'coupon'
  | 'payment_method'
  | 'source'
  | 'discount'
  | 'customer_balance_transaction'
  | 'refund'
  | 'billing_portal.configuration'
  | 'billing_portal.session';

export class FakeStripeStore {
  readonly customers = new Map<string, Stripe.Customer | Stripe.DeletedCustomer>();
  readonly subscriptions = new Map<string, Stripe.Subscription>();
  readonly invoices = new Map<string, Stripe.Invoice>();
  readonly charges = new Map<string, Stripe.Charge>();
  readonly prices = new Map<string, Stripe.Price>();
  readonly products = new Map<string, Stripe.Product>();
  readonly promotionCodes = new Map<string, Stripe.PromotionCode>();
  readonly coupons = new Map<string, Stripe.Coupon>();
  readonly paymentMethods = new Map<string, Stripe.PaymentMethod>();
  /** Legacy card sources (`card_…`), as customer.default_source still points at them. */
  readonly sources = new Map<string, Stripe.Card>();
  readonly discounts = new Map<string, Stripe.Discount>();
  readonly balanceTransactions = new Map<string, Stripe.CustomerBalanceTransaction>();
  readonly refunds = new Map<string, Stripe.Refund>();
  readonly portalConfigurations = new Map<string, Stripe.BillingPortal.Configuration>();
  readonly portalSessions = new Map<string, Stripe.BillingPortal.Session>();
  /** Invoices sent with POST /v1/invoices/:id/send (Stripe emails them; the fake records them). */
  readonly sentInvoices: SentInvoiceRecord[] = [];

  private sequence = 0;

  /** Deterministic ids for objects the fake creates, so test output is stable. */
  nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}_Fake${String(this.sequence).padStart(6, '0')}`;
  }

  collection(kind: ResourceKind): ReadonlyMap<string, { id: string }> {
    switch (kind) {
      case 'customer':
        return this.customers;
      case 'subscription':
        return this.subscriptions;
      case 'invoice':
        return this.invoices;
      case 'charge':
        return this.charges;
      case 'price':
        return this.prices;
      case 'product':
        return this.products;
      case 'promotion_code':
        return this.promotionCodes;
      case 'coupon':
        return this.coupons;
      case 'payment_method':
        return this.paymentMethods;
      case 'source':
        return this.sources;
      case 'discount':
        return this.discounts;
      case 'customer_balance_transaction':
        return this.balanceTransactions;
      case 'refund':
        return this.refunds;
      case 'billing_portal.configuration':
        return this.portalConfigurations;
      case 'billing_portal.session':
        return this.portalSessions;
    }
  }

  /** A live (not deleted) customer, or undefined. */
  liveCustomer(id: string): Stripe.Customer | undefined {
    const customer = this.customers.get(id);
    return customer && !customer.deleted ? customer : undefined;
  }

  defaultPortalConfiguration(): Stripe.BillingPortal.Configuration | undefined {
    return [...this.portalConfigurations.values()].find((c) => c.is_default && c.active);
  }
}
