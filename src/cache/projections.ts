/**
 * What a cache entry holds: only the fields the tools read, never a whole Stripe object (no
 * metadata, fingerprints, addresses beyond the country, or anything a tool does not show).
 * Each type names the Stripe fields it keeps, so the compiler checks both that a projection
 * copies them and that no tool reads a field the cache does not hold. Free text that merchants
 * and customers write (names, descriptions, memos, descriptors, messages) is made safe for a
 * model here, on its way in, by `untrustedText`.
 */
import type Stripe from 'stripe';
import { untrustedText, untrustedTextOrNull } from '../format/untrusted-text.js';

type Expandable<T> = string | T | null;

export interface SlimPaymentMethod {
  id: string;
  type: string;
  card: { brand: string; last4: string; exp_month: number; exp_year: number; wallet: { type: string } | null } | null;
  sepa_debit: { last4: string | null } | null;
  us_bank_account: { last4: string | null; bank_name: string | null } | null;
}

/** A legacy source; only a card's safe facts are kept. */
export type SlimSource = { id: string; object: 'card'; brand: string; last4: string; exp_month: number; exp_year: number } | { id: string; object: string };

export interface SlimCustomer {
  id: string;
  email: string | null;
  name: string | null;
  created: number;
  currency: string | null;
  balance: number;
  invoice_credit_balance: Record<string, number> | null;
  address: { country: string | null } | null;
  tax_exempt: Stripe.Customer['tax_exempt'];
  default_source: Expandable<SlimSource>;
  invoice_settings: { default_payment_method: Expandable<SlimPaymentMethod> };
}

export interface SlimCoupon {
  id: string;
  name: string | null;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: Stripe.Coupon['duration'];
  duration_in_months: number | null;
}

export interface SlimDiscount {
  id: string;
  start: number;
  end: number | null;
  promotion_code: string | null;
  source: { coupon: Expandable<SlimCoupon> };
}

export interface SlimPrice {
  id: string;
  active: boolean;
  currency: string;
  unit_amount: number | null;
  /** Names the plan when the key cannot read products (free text, made safe). */
  nickname: string | null;
  type: Stripe.Price['type'];
  billing_scheme: Stripe.Price['billing_scheme'];
  recurring: { interval: Stripe.Price.Recurring['interval']; interval_count: number; usage_type: Stripe.Price.Recurring['usage_type'] } | null;
  product: string;
}

export interface SlimProduct {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
}

export interface SlimSubscription {
  id: string;
  customer: string;
  status: Stripe.Subscription['status'];
  created: number;
  currency: string;
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  trial_end: number | null;
  default_payment_method: Expandable<SlimPaymentMethod>;
  default_source: string | null;
  discounts: Array<string | SlimDiscount>;
  items: { data: Array<{ id: string; quantity: number | undefined; current_period_start: number; current_period_end: number; price: SlimPrice }> };
}

export interface SlimInvoiceLine {
  description: string | null;
  amount: number;
  currency: string;
  period: { start: number; end: number };
}

export interface SlimInvoice {
  id: string;
  customer: string | null;
  number: string | null;
  status: Stripe.Invoice['status'];
  currency: string;
  description: string | null;
  total: number;
  subtotal: number;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  starting_balance: number;
  attempt_count: number;
  created: number;
  due_date: number | null;
  next_payment_attempt: number | null;
  period_end: number;
  collection_method: Stripe.Invoice['collection_method'];
  status_transitions: { paid_at: number | null };
  hosted_invoice_url: string | null;
  invoice_pdf: string | null;
  subscription: string | null;
  total_discount_amounts: Array<{ amount: number; discount: string }> | null;
  total_taxes: Array<{ amount: number }> | null;
  lines: { data: SlimInvoiceLine[]; has_more: boolean };
}

export interface SlimCharge {
  id: string;
  created: number;
  amount: number;
  amount_refunded: number;
  refunded: boolean;
  currency: string;
  status: Stripe.Charge['status'];
  description: string | null;
  calculated_statement_descriptor: string | null;
  failure_code: string | null;
  failure_message: string | null;
  /** risk_level: Radar's normal/elevated/highest, for staff only. */
  outcome: { type: string; reason: string | null; risk_level: string | null; seller_message: string | null } | null;
  receipt_url: string | null;
  payment_method: string | null;
  payment_method_details: {
    type: string;
    card: { brand: string | null; last4: string | null; exp_month: number; exp_year: number; wallet: { type: string } | null } | null;
    sepa_debit: { last4: string | null } | null;
    us_bank_account: { last4: string | null } | null;
  } | null;
}

export interface SlimBalanceTransaction {
  id: string;
  created: number;
  amount: number;
  currency: string;
  ending_balance: number;
  type: string;
  description: string | null;
}

/** The plans the billing portal lets customers switch between. */
export interface SwitchablePlans {
  configuration: string;
  /** Each product with the prices offered for it (empty: all of the product's prices). */
  products: Array<{ product: string; prices: string[] }>;
}

/** The id of a field Stripe may return as an id or as the expanded object. */
export const idOf = (value: string | { id: string } | null | undefined): string | null => (value == null ? null : typeof value === 'string' ? value : value.id);

function projectPaymentMethod(pm: Stripe.PaymentMethod): SlimPaymentMethod {
  return {
    id: pm.id,
    type: pm.type,
    card: pm.card ? { brand: pm.card.brand, last4: pm.card.last4, exp_month: pm.card.exp_month, exp_year: pm.card.exp_year, wallet: pm.card.wallet ? { type: pm.card.wallet.type } : null } : null,
    sepa_debit: pm.sepa_debit ? { last4: pm.sepa_debit.last4 } : null,
    us_bank_account: pm.us_bank_account ? { last4: pm.us_bank_account.last4, bank_name: untrustedTextOrNull(pm.us_bank_account.bank_name) } : null,
  };
}

function projectExpandedPaymentMethod(value: string | Stripe.PaymentMethod | null): Expandable<SlimPaymentMethod> {
  return value === null || typeof value === 'string' ? value : projectPaymentMethod(value);
}

function projectSource(value: string | Stripe.CustomerSource | null): Expandable<SlimSource> {
  if (value === null || typeof value === 'string') return value;
  if (value.object === 'card') {
    const card = value as Stripe.Card;
    return { id: card.id, object: 'card', brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year };
  }
  return { id: value.id, object: value.object };
}

export function projectCustomer(customer: Stripe.Customer): SlimCustomer {
  return {
    id: customer.id,
    email: customer.email,
    name: untrustedTextOrNull(customer.name),
    created: customer.created,
    currency: customer.currency ?? null,
    balance: customer.balance,
    invoice_credit_balance: customer.invoice_credit_balance ?? null,
    address: customer.address ? { country: customer.address.country } : null,
    tax_exempt: customer.tax_exempt ?? null,
    default_source: projectSource(customer.default_source),
    invoice_settings: { default_payment_method: projectExpandedPaymentMethod(customer.invoice_settings.default_payment_method) },
  };
}

function projectCoupon(coupon: Stripe.Coupon): SlimCoupon {
  return {
    id: coupon.id,
    name: untrustedTextOrNull(coupon.name),
    percent_off: coupon.percent_off,
    amount_off: coupon.amount_off,
    currency: coupon.currency,
    duration: coupon.duration,
    duration_in_months: coupon.duration_in_months,
  };
}

function projectDiscount(discount: string | Stripe.Discount): string | SlimDiscount {
  if (typeof discount === 'string') return discount;
  const coupon = discount.source.coupon;
  return { id: discount.id, start: discount.start, end: discount.end, promotion_code: idOf(discount.promotion_code), source: { coupon: coupon === null || typeof coupon === 'string' ? coupon : projectCoupon(coupon) } };
}

export function projectPrice(price: Stripe.Price): SlimPrice {
  return {
    id: price.id,
    active: price.active,
    currency: price.currency,
    unit_amount: price.unit_amount,
    nickname: untrustedTextOrNull(price.nickname),
    type: price.type,
    billing_scheme: price.billing_scheme,
    recurring: price.recurring ? { interval: price.recurring.interval, interval_count: price.recurring.interval_count, usage_type: price.recurring.usage_type } : null,
    product: idOf(price.product)!,
  };
}

export function projectProduct(product: Stripe.Product): SlimProduct {
  return { id: product.id, name: untrustedText(product.name) || product.id, description: untrustedTextOrNull(product.description), active: product.active };
}

export function projectSubscription(sub: Stripe.Subscription): SlimSubscription {
  return {
    id: sub.id,
    customer: idOf(sub.customer)!,
    status: sub.status,
    created: sub.created,
    currency: sub.currency,
    cancel_at_period_end: sub.cancel_at_period_end,
    cancel_at: sub.cancel_at,
    canceled_at: sub.canceled_at,
    trial_end: sub.trial_end,
    default_payment_method: projectExpandedPaymentMethod(sub.default_payment_method),
    default_source: idOf(sub.default_source),
    discounts: sub.discounts.map(projectDiscount),
    items: {
      data: sub.items.data.map((item) => ({
        id: item.id,
        quantity: item.quantity,
        current_period_start: item.current_period_start,
        current_period_end: item.current_period_end,
        price: projectPrice(item.price),
      })),
    },
  };
}

export function projectInvoice(invoice: Stripe.Invoice): SlimInvoice {
  return {
    id: invoice.id ?? '',
    customer: idOf(invoice.customer),
    number: untrustedTextOrNull(invoice.number),
    status: invoice.status,
    currency: invoice.currency,
    description: untrustedTextOrNull(invoice.description),
    total: invoice.total,
    subtotal: invoice.subtotal,
    amount_due: invoice.amount_due,
    amount_paid: invoice.amount_paid,
    amount_remaining: invoice.amount_remaining,
    starting_balance: invoice.starting_balance,
    attempt_count: invoice.attempt_count,
    created: invoice.created,
    due_date: invoice.due_date,
    next_payment_attempt: invoice.next_payment_attempt,
    period_end: invoice.period_end,
    collection_method: invoice.collection_method,
    status_transitions: { paid_at: invoice.status_transitions.paid_at },
    hosted_invoice_url: invoice.hosted_invoice_url ?? null,
    invoice_pdf: invoice.invoice_pdf ?? null,
    subscription: idOf(invoice.parent?.subscription_details?.subscription),
    total_discount_amounts: invoice.total_discount_amounts?.map((entry) => ({ amount: entry.amount, discount: idOf(entry.discount)! })) ?? null,
    total_taxes: invoice.total_taxes?.map((entry) => ({ amount: entry.amount })) ?? null,
    lines: {
      data: invoice.lines.data.map((line) => ({ description: untrustedTextOrNull(line.description), amount: line.amount, currency: line.currency, period: { start: line.period.start, end: line.period.end } })),
      has_more: invoice.lines.has_more,
    },
  };
}

export function projectCharge(charge: Stripe.Charge): SlimCharge {
  const details = charge.payment_method_details;
  return {
    id: charge.id,
    created: charge.created,
    amount: charge.amount,
    amount_refunded: charge.amount_refunded,
    refunded: charge.refunded,
    currency: charge.currency,
    status: charge.status,
    description: untrustedTextOrNull(charge.description),
    calculated_statement_descriptor: untrustedTextOrNull(charge.calculated_statement_descriptor),
    failure_code: charge.failure_code,
    failure_message: untrustedTextOrNull(charge.failure_message),
    outcome: charge.outcome ? { type: charge.outcome.type, reason: charge.outcome.reason, risk_level: charge.outcome.risk_level ?? null, seller_message: untrustedTextOrNull(charge.outcome.seller_message) } : null,
    receipt_url: charge.receipt_url,
    payment_method: charge.payment_method,
    payment_method_details: details
      ? {
          type: details.type,
          card: details.card
            ? { brand: details.card.brand, last4: details.card.last4, exp_month: details.card.exp_month, exp_year: details.card.exp_year, wallet: details.card.wallet ? { type: details.card.wallet.type } : null }
            : null,
          sepa_debit: details.sepa_debit ? { last4: details.sepa_debit.last4 } : null,
          us_bank_account: details.us_bank_account ? { last4: details.us_bank_account.last4 } : null,
        }
      : null,
  };
}

export function projectBalanceTransaction(transaction: Stripe.CustomerBalanceTransaction): SlimBalanceTransaction {
  return {
    id: transaction.id,
    created: transaction.created,
    amount: transaction.amount,
    currency: transaction.currency,
    ending_balance: transaction.ending_balance,
    type: transaction.type,
    description: untrustedTextOrNull(transaction.description),
  };
}

/** Null when plan switching is off or names no products (the configuration read with its products expanded). */
export function projectSwitchablePlans(configuration: Stripe.BillingPortal.Configuration): SwitchablePlans | null {
  const update = configuration.features.subscription_update;
  if (!configuration.active || !update.enabled || !update.products || update.products.length === 0) return null;
  return { configuration: configuration.id, products: update.products.map((entry) => ({ product: entry.product, prices: [...entry.prices] })) };
}
