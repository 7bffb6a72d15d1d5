/**
 * Factories for fake Stripe objects.
 *
 * Each returns a complete object literal typed as the SDK's own type, so `tsc` checks every
 * field name and nullability against the pinned API version. Arguments carry only what the
 * demo varies; everything else is the placeholder Stripe itself shows in its API reference
 * (fixtures3.json).
 */
import Stripe from 'stripe';
import { FAKE_ACCOUNT_ID } from './demo-account.js';
import { chargeOutcome } from './declines.js';

export { FAKE_ACCOUNT_ID };

const emptyAddress = (): Stripe.Address => ({
  city: null,
  country: null,
  line1: null,
  line2: null,
  postal_code: null,
  state: null,
});

export interface CustomerSpec {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  phone?: string | null;
  balance?: number;
  currency?: string | null;
  defaultPaymentMethod?: string | null;
  /** A legacy card source (`card_…`) id. */
  defaultSource?: string | null;
  metadata?: Record<string, string>;
  invoicePrefix?: string;
}

export function makeCustomer(spec: CustomerSpec): Stripe.Customer {
  return {
    id: spec.id,
    object: 'customer',
    address: emptyAddress(),
    balance: spec.balance ?? 0,
    created: spec.created,
    currency: spec.currency === undefined ? 'usd' : spec.currency,
    customer_account: null,
    default_source: spec.defaultSource ?? null,
    delinquent: false,
    description: null,
    discount: null,
    email: spec.email,
    invoice_prefix: spec.invoicePrefix ?? spec.id.slice(4, 11).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: spec.defaultPaymentMethod ?? null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: spec.metadata ?? {},
    name: spec.name,
    next_invoice_sequence: 1,
    phone: spec.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function makeDeletedCustomer(id: string): Stripe.DeletedCustomer {
  return { id, object: 'customer', deleted: true };
}

export interface ProductSpec {
  id: string;
  created: number;
  name: string;
  active?: boolean;
  defaultPrice?: string | null;
  description?: string | null;
}

export function makeProduct(spec: ProductSpec): Stripe.Product {
  return {
    id: spec.id,
    object: 'product',
    active: spec.active ?? true,
    created: spec.created,
    default_price: spec.defaultPrice ?? null,
    description: spec.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: spec.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: spec.created,
    url: null,
  };
}

export interface PriceSpec {
  id: string;
  created: number;
  product: string;
  currency: string;
  unitAmount: number;
  /** null for a one-time price. */
  recurring: { interval: Stripe.Price.Recurring.Interval; intervalCount?: number } | null;
  active?: boolean;
  lookupKey?: string | null;
  nickname?: string | null;
}

export function makePrice(spec: PriceSpec): Stripe.Price {
  return {
    id: spec.id,
    object: 'price',
    active: spec.active ?? true,
    billing_scheme: 'per_unit',
    created: spec.created,
    currency: spec.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: spec.lookupKey ?? null,
    metadata: {},
    nickname: spec.nickname ?? null,
    product: spec.product,
    recurring: spec.recurring
      ? {
          interval: spec.recurring.interval,
          interval_count: spec.recurring.intervalCount ?? 1,
          meter: null,
          trial_period_days: null,
          usage_type: 'licensed',
        }
      : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: spec.recurring ? 'recurring' : 'one_time',
    unit_amount: spec.unitAmount,
    unit_amount_decimal: Stripe.Decimal.from(spec.unitAmount),
  };
}

/** The legacy Plan object Stripe still embeds in subscription items, derived from the price. */
function planFromPrice(price: Stripe.Price): Stripe.Plan {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export interface SubscriptionItemSpec {
  id: string;
  subscription: string;
  created: number;
  price: Stripe.Price;
  quantity: number;
  currentPeriodStart: number;
  currentPeriodEnd: number;
}

export function makeSubscriptionItem(spec: SubscriptionItemSpec): Stripe.SubscriptionItem {
  return {
    id: spec.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: spec.created,
    current_period_end: spec.currentPeriodEnd,
    current_period_start: spec.currentPeriodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planFromPrice(spec.price),
    price: spec.price,
    quantity: spec.quantity,
    subscription: spec.subscription,
    tax_rates: [],
  };
}

export interface SubscriptionSpec {
  id: string;
  customer: string;
  created: number;
  status: Stripe.Subscription.Status;
  items: Stripe.SubscriptionItem[];
  currency: string;
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number | null;
  canceledAt?: number | null;
  endedAt?: number | null;
  trialStart?: number | null;
  trialEnd?: number | null;
  discounts?: string[];
  defaultPaymentMethod?: string | null;
  latestInvoice?: string | null;
  collectionMethod?: Stripe.Subscription.CollectionMethod;
  daysUntilDue?: number | null;
  metadata?: Record<string, string>;
}

export function makeSubscription(spec: SubscriptionSpec): Stripe.Subscription {
  return {
    id: spec.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: spec.items[0]?.current_period_start ?? spec.created,
    billing_cycle_anchor_config: null,
    billing_mode: { type: 'classic', flexible: null },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: spec.cancelAt ?? null,
    cancel_at_period_end: spec.cancelAtPeriodEnd ?? false,
    canceled_at: spec.canceledAt ?? null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: spec.collectionMethod ?? 'charge_automatically',
    created: spec.created,
    currency: spec.currency,
    customer: spec.customer,
    customer_account: null,
    days_until_due: spec.daysUntilDue ?? null,
    default_payment_method: spec.defaultPaymentMethod ?? null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: spec.discounts ?? [],
    ended_at: spec.endedAt ?? null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: {
      object: 'list',
      data: spec.items,
      has_more: false,
      url: `/v1/subscription_items?subscription=${spec.id}`,
    },
    latest_invoice: spec.latestInvoice ?? null,
    livemode: false,
    managed_payments: null,
    metadata: spec.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: spec.created,
    status: spec.status,
    test_clock: null,
    transfer_data: null,
    trial_end: spec.trialEnd ?? null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: spec.trialStart ?? null,
  };
}

export interface InvoiceLineSpec {
  id: string;
  invoice: string | null;
  amount: number;
  currency: string;
  description: string;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  price?: Stripe.Price | null;
  subscription?: string | null;
  subscriptionItem?: string | null;
}

export function makeInvoiceLineItem(spec: InvoiceLineSpec): Stripe.InvoiceLineItem {
  return {
    id: spec.id,
    object: 'line_item',
    amount: spec.amount,
    currency: spec.currency,
    description: spec.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: spec.invoice,
    livemode: false,
    metadata: {},
    parent: spec.subscription
      ? {
          type: 'subscription_item_details',
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: null,
            subscription: spec.subscription,
            subscription_item: spec.subscriptionItem ?? '',
          },
        }
      : null,
    period: { end: spec.periodEnd, start: spec.periodStart },
    pretax_credit_amounts: null,
    pricing: spec.price
      ? {
          type: 'price_details',
          price_details: {
            price: spec.price.id,
            product: typeof spec.price.product === 'string' ? spec.price.product : spec.price.product.id,
          },
          unit_amount_decimal: spec.price.unit_amount_decimal,
        }
      : null,
    quantity: spec.quantity,
    quantity_decimal: Stripe.Decimal.from(spec.quantity),
    subscription: spec.subscription ?? null,
    subtotal: spec.amount,
    taxes: null,
  };
}

export interface InvoiceSpec {
  id: string;
  customer: string;
  customerEmail: string | null;
  customerName: string | null;
  created: number;
  currency: string;
  status: Stripe.Invoice.Status;
  lines: Stripe.InvoiceLineItem[];
  /** Sum before discounts and balance. */
  subtotal: number;
  total?: number;
  amountPaid?: number;
  amountDue?: number;
  startingBalance?: number;
  collectionMethod?: Stripe.Invoice.CollectionMethod;
  subscription?: string | null;
  dueDate?: number | null;
  number?: string | null;
  paidAt?: number | null;
  periodStart?: number;
  periodEnd?: number;
  nextPaymentAttempt?: number | null;
  billingReason?: Stripe.Invoice.BillingReason;
  attemptCount?: number;
  /** Stripe sets hosted/pdf links only once an invoice is finalized; drafts have none. */
  finalized?: boolean;
}

export function makeInvoice(spec: InvoiceSpec): Stripe.Invoice {
  const total = spec.total ?? spec.subtotal;
  const amountPaid = spec.amountPaid ?? (spec.status === 'paid' ? total : 0);
  const amountDue = spec.amountDue ?? Math.max(0, total + (spec.startingBalance ?? 0));
  const finalized = spec.finalized ?? spec.status !== 'draft';
  const token = spec.id.replace(/^in_/, '');
  return {
    id: spec.id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Demo Merchant',
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: amountPaid,
    amount_remaining: Math.max(0, amountDue - amountPaid),
    amount_shipping: 0,
    application: null,
    attempt_count: spec.attemptCount ?? (spec.status === 'paid' ? 1 : 0),
    attempted: (spec.attemptCount ?? (spec.status === 'paid' ? 1 : 0)) > 0,
    auto_advance: spec.status === 'draft',
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: spec.billingReason ?? (spec.subscription ? 'subscription_cycle' : 'manual'),
    collection_method: spec.collectionMethod ?? 'charge_automatically',
    confirmation_secret: null,
    created: spec.created,
    currency: spec.currency,
    custom_fields: null,
    customer: spec.customer,
    customer_account: null,
    customer_address: null,
    customer_email: spec.customerEmail,
    customer_name: spec.customerName,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: spec.dueDate ?? null,
    effective_at: finalized ? spec.created : null,
    // Credit left after this invoice (negative); a positive starting balance was added to amount_due.
    ending_balance: finalized ? Math.min(0, total + (spec.startingBalance ?? 0)) : null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: finalized ? `https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_${token}` : null,
    invoice_pdf: finalized ? `https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_${token}/pdf` : null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: spec.lines, has_more: false, url: `/v1/invoices/${spec.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: spec.nextPaymentAttempt ?? null,
    number: spec.number ?? null,
    on_behalf_of: null,
    parent: spec.subscription
      ? {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: { metadata: {}, subscription: spec.subscription },
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: spec.periodEnd ?? spec.created,
    period_start: spec.periodStart ?? spec.created,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: spec.startingBalance ?? 0,
    statement_descriptor: null,
    status: spec.status,
    status_transitions: {
      finalized_at: finalized ? spec.created : null,
      marked_uncollectible_at: null,
      paid_at: spec.paidAt ?? (spec.status === 'paid' ? spec.created : null),
      voided_at: null,
    },
    subtotal: spec.subtotal,
    subtotal_excluding_tax: spec.subtotal,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: null,
    total_taxes: [],
    webhooks_delivered_at: spec.created,
  };
}

export interface CardSpec {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  fingerprint: string;
  country?: string;
}

export interface PaymentMethodSpec {
  id: string;
  customer: string | null;
  created: number;
  card: CardSpec;
  billingName?: string | null;
  billingEmail?: string | null;
}

export function makeCardPaymentMethod(spec: PaymentMethodSpec): Stripe.PaymentMethod {
  return {
    id: spec.id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: emptyAddress(),
      email: spec.billingEmail ?? null,
      name: spec.billingName ?? null,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: spec.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: spec.card.country ?? 'US',
      display_brand: spec.card.brand,
      exp_month: spec.card.expMonth,
      exp_year: spec.card.expYear,
      fingerprint: spec.card.fingerprint,
      funding: 'credit',
      generated_from: null,
      last4: spec.card.last4,
      networks: { available: [spec.card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: spec.created,
    customer: spec.customer,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

export interface CardSourceSpec {
  id: string;
  customer: string;
  card: CardSpec;
  name?: string | null;
}

/** A legacy card source (Sources/Tokens API, `card_…`): brand as Stripe shows it there, e.g. "Visa". */
export function makeCardSource(spec: CardSourceSpec): Stripe.Card {
  return {
    id: spec.id,
    object: 'card',
    address_city: null,
    address_country: null,
    address_line1: null,
    address_line1_check: null,
    address_line2: null,
    address_state: null,
    address_zip: null,
    address_zip_check: null,
    brand: spec.card.brand,
    country: spec.card.country ?? 'US',
    customer: spec.customer,
    cvc_check: 'pass',
    dynamic_last4: null,
    exp_month: spec.card.expMonth,
    exp_year: spec.card.expYear,
    fingerprint: spec.card.fingerprint,
    funding: 'credit',
    last4: spec.card.last4,
    metadata: {},
    name: spec.name ?? null,
    regulated_status: null,
    tokenization_method: null,
  };
}

export interface ChargeSpec {
  id: string;
  customer: string;
  created: number;
  amount: number;
  currency: string;
  description: string | null;
  paymentMethod: string;
  card: CardSpec;
  status?: Stripe.Charge.Status;
  failureCode?: string | null;
  failureMessage?: string | null;
  /** The issuer's decline code (outcome.reason, as Stripe reports it); without it, the failure code. */
  declineCode?: string | null;
  amountRefunded?: number;
  receiptEmail?: string | null;
  /** The PaymentIntent (`pi_…`) that created the charge, for refunds by payment_intent. */
  paymentIntent?: string | null;
}

export function makeCharge(spec: ChargeSpec): Stripe.Charge {
  const status = spec.status ?? 'succeeded';
  const succeeded = status === 'succeeded';
  const amountRefunded = spec.amountRefunded ?? 0;
  return {
    id: spec.id,
    object: 'charge',
    amount: spec.amount,
    amount_captured: succeeded ? spec.amount : 0,
    amount_refunded: amountRefunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeded ? `txn_${spec.id.slice(3)}` : null,
    billing_details: { address: emptyAddress(), email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'DEMO MERCHANT',
    captured: succeeded,
    created: spec.created,
    currency: spec.currency,
    customer: spec.customer,
    description: spec.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: spec.failureCode ?? null,
    failure_message: spec.failureMessage ?? null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: chargeOutcome(
      // Without a decline code the seed's older records keep failure_code as the reason, as they always had.
      succeeded ? null : { declineCode: spec.declineCode ?? spec.failureCode ?? 'generic_decline' },
    ),
    paid: succeeded,
    payment_intent: spec.paymentIntent ?? null,
    payment_method: spec.paymentMethod,
    payment_method_details: {
      type: 'card',
      card: {
        amount_authorized: succeeded ? spec.amount : null,
        authorization_code: null,
        brand: spec.card.brand,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: spec.card.country ?? 'US',
        electronic_commerce_indicator: null,
        exp_month: spec.card.expMonth,
        exp_year: spec.card.expYear,
        fingerprint: spec.card.fingerprint,
        funding: 'credit',
        installments: null,
        last4: spec.card.last4,
        mandate: null,
        network: spec.card.brand,
        network_token: { used: false },
        network_transaction_id: null,
        regulated_status: 'unregulated',
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
    },
    presentment_details: undefined,
    radar_options: undefined,
    receipt_email: spec.receiptEmail ?? null,
    receipt_number: null,
    receipt_url: succeeded ? `https://pay.stripe.com/receipts/payment/test_${spec.id.slice(3)}` : null,
    refunded: amountRefunded > 0 && amountRefunded >= spec.amount,
    refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${spec.id}/refunds` },
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
  };
}

export interface RefundSpec {
  id: string;
  created: number;
  charge: Stripe.Charge;
  amount: number;
  reason: Stripe.Refund.Reason | null;
  metadata?: Record<string, string>;
}

/** A card refund as Stripe returns it once the refund has been sent to the card network. */
export function makeRefund(spec: RefundSpec): Stripe.Refund {
  const charge = spec.charge;
  return {
    id: spec.id,
    object: 'refund',
    amount: spec.amount,
    balance_transaction: `txn_${spec.id.slice(3)}`,
    charge: charge.id,
    created: spec.created,
    currency: charge.currency,
    customer: typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null),
    customer_account: null,
    destination_details: { type: 'card', card: { reference: `ARN${spec.id.slice(3)}`, reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } },
    metadata: spec.metadata ?? {},
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    payment_method: typeof charge.payment_method === 'string' ? charge.payment_method : null,
    reason: spec.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}

export interface CouponSpec {
  id: string;
  created: number;
  name: string;
  percentOff?: number | null;
  amountOff?: number | null;
  currency?: string | null;
  duration: Stripe.Coupon.Duration;
  durationInMonths?: number | null;
  timesRedeemed?: number;
}

export function makeCoupon(spec: CouponSpec): Stripe.Coupon {
  return {
    id: spec.id,
    object: 'coupon',
    amount_off: spec.amountOff ?? null,
    applies_to: undefined,
    created: spec.created,
    currency: spec.amountOff ? (spec.currency ?? 'usd') : null,
    duration: spec.duration,
    duration_in_months: spec.durationInMonths ?? null,
    livemode: false,
    max_redemptions: null,
    metadata: {},
    name: spec.name,
    percent_off: spec.percentOff ?? null,
    redeem_by: null,
    times_redeemed: spec.timesRedeemed ?? 0,
    valid: true,
  };
}

export interface PromotionCodeSpec {
  id: string;
  created: number;
  code: string;
  coupon: string;
  active?: boolean;
  customer?: string | null;
  expiresAt?: number | null;
  maxRedemptions?: number | null;
  timesRedeemed?: number;
  firstTimeTransaction?: boolean;
  minimumAmount?: number | null;
  minimumAmountCurrency?: string | null;
}

export function makePromotionCode(spec: PromotionCodeSpec): Stripe.PromotionCode {
  return {
    id: spec.id,
    object: 'promotion_code',
    active: spec.active ?? true,
    code: spec.code,
    created: spec.created,
    customer: spec.customer ?? null,
    customer_account: null,
    expires_at: spec.expiresAt ?? null,
    livemode: false,
    max_redemptions: spec.maxRedemptions ?? null,
    metadata: {},
    promotion: { type: 'coupon', coupon: spec.coupon },
    restrictions: {
      first_time_transaction: spec.firstTimeTransaction ?? false,
      minimum_amount: spec.minimumAmount ?? null,
      minimum_amount_currency: spec.minimumAmount ? (spec.minimumAmountCurrency ?? 'usd') : null,
    },
    times_redeemed: spec.timesRedeemed ?? 0,
  };
}

export interface DiscountSpec {
  id: string;
  start: number;
  coupon: Stripe.Coupon;
  customer: string;
  subscription: string | null;
  promotionCode?: string | null;
}

export function makeDiscount(spec: DiscountSpec): Stripe.Discount {
  const months = spec.coupon.duration === 'repeating' ? (spec.coupon.duration_in_months ?? 0) : null;
  return {
    id: spec.id,
    object: 'discount',
    checkout_session: null,
    customer: spec.customer,
    customer_account: null,
    // Stripe ends a repeating discount after its months; the fake uses 30-day months.
    end: months === null ? null : spec.start + months * 30 * 86_400,
    invoice: null,
    invoice_item: null,
    promotion_code: spec.promotionCode ?? null,
    // Stripe embeds the full coupon in a discount's source.
    source: { type: 'coupon', coupon: spec.coupon },
    start: spec.start,
    subscription: spec.subscription,
    subscription_item: null,
  };
}

export interface BalanceTransactionSpec {
  id: string;
  customer: string;
  created: number;
  amount: number;
  currency: string;
  endingBalance: number;
  type: Stripe.CustomerBalanceTransaction.Type;
  description?: string | null;
  invoice?: string | null;
  metadata?: Record<string, string>;
}

export function makeCustomerBalanceTransaction(spec: BalanceTransactionSpec): Stripe.CustomerBalanceTransaction {
  return {
    id: spec.id,
    object: 'customer_balance_transaction',
    amount: spec.amount,
    checkout_session: null,
    created: spec.created,
    credit_note: null,
    currency: spec.currency,
    customer: spec.customer,
    customer_account: null,
    description: spec.description ?? null,
    ending_balance: spec.endingBalance,
    invoice: spec.invoice ?? null,
    livemode: false,
    metadata: spec.metadata ?? {},
    type: spec.type,
  };
}

export interface PortalConfigurationSpec {
  id: string;
  created: number;
  isDefault: boolean;
  cancelEnabled: boolean;
  cancelMode?: Stripe.BillingPortal.Configuration.Features.SubscriptionCancel.Mode;
  /** Plan switching on, to these products and prices (Stripe returns them only when expanded). */
  switchTo?: Array<{ product: string; prices: string[] }>;
}

export function makePortalConfiguration(spec: PortalConfigurationSpec): Stripe.BillingPortal.Configuration {
  return {
    id: spec.id,
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null },
    created: spec.created,
    default_return_url: null,
    features: {
      customer_update: { allowed_updates: ['email', 'address'], enabled: true },
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true, payment_method_configuration: null },
      subscription_cancel: {
        cancellation_reason: { enabled: false, feedback_options: null, options: [] },
        enabled: spec.cancelEnabled,
        mode: spec.cancelMode ?? 'at_period_end',
        proration_behavior: 'none',
      },
      subscription_pause: { enabled: false, duration: { type: 'indefinite', interval_options: [] } },
      subscription_update: {
        billing_cycle_anchor: null,
        default_allowed_updates: spec.switchTo ? ['price'] : [],
        enabled: spec.switchTo !== undefined,
        ...(spec.switchTo ? { products: spec.switchTo.map((entry) => ({ product: entry.product, prices: entry.prices, adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } })) } : {}),
        proration_behavior: 'none',
        schedule_at_period_end: { conditions: [] },
        trial_update_behavior: 'end_trial',
      },
    },
    is_default: spec.isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: spec.created,
  };
}

export interface PortalSessionSpec {
  id: string;
  created: number;
  customer: string;
  configuration: string;
  returnUrl: string | null;
  flow: Stripe.BillingPortal.Session.Flow | null;
  url: string;
}

export function makePortalSession(spec: PortalSessionSpec): Stripe.BillingPortal.Session {
  return {
    id: spec.id,
    object: 'billing_portal.session',
    configuration: spec.configuration,
    created: spec.created,
    customer: spec.customer,
    customer_account: null,
    flow: spec.flow,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: spec.returnUrl,
    url: spec.url,
  };
}
