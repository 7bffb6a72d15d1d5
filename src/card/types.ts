/**
 * The data the card renders: each tool's structuredContent (its outputSchema in src/tools/*.ts
 * and src/tools/lib/*) and the result `_meta` the server adds for the card. Declared here, not
 * imported from the tools, so the browser bundle depends on nothing server-side; everything is
 * optional because the host relays it and the card must not break on a missing field.
 */

export interface Money {
  amount: number;
  currency: string;
  formatted: string;
}

export interface Discount {
  name: string;
  off: string;
  lasts: string;
}

export interface Breakdown {
  lines?: { description: string; amount: Money }[];
  discounts?: { name: string; amount: Money }[];
  tax?: Money;
  credit_applied?: Money;
  balance_added?: Money;
  amount_due?: Money;
  tax_note?: string;
}

export interface NextPayment {
  date: string;
  amount: Money;
  basis?: string;
  breakdown?: Breakdown;
}

export interface PaymentMethod {
  type: string;
  brand?: string;
  last4?: string;
  exp?: string;
  wallet?: string;
  description?: string;
}

/** get_customer_overview */
export interface Overview {
  customer?: { name?: string; email?: string; customer_since?: string };
  subscriptions?: {
    id: string;
    plan: string;
    price?: string;
    status: string;
    discounts?: Discount[];
    next_payment?: NextPayment;
    note?: string;
  }[];
  recent_invoices?: InvoiceSummary[];
  payment_method?: PaymentMethod;
  balances?: { kind: 'credit' | 'owed'; amount: Money }[];
  upcoming_invoice?: { date: string; amount_due: Money };
  payment_problems?: { date: string; amount: Money; kind: string; detail: string }[];
  attention?: string[];
  summary?: string;
}

/** An invoice as the overview lists it; get_invoice_history adds the rest. */
export interface InvoiceSummary {
  id: string;
  number?: string;
  status: string;
  total: Money;
  amount_remaining?: Money;
  created: string;
  hosted_invoice_url?: string;
  invoice_pdf?: string;
}

export interface Invoice extends InvoiceSummary {
  status_note?: string;
  description?: string;
  amount_due?: Money;
  amount_paid?: Money;
  due_date?: string;
  paid_at?: string;
  period?: { start: string; end: string };
  links_note?: string;
}

/** get_invoice_history */
export interface InvoiceHistory {
  invoices?: Invoice[];
  more_available?: boolean;
  summary?: string;
}

export interface Subscription {
  id: string;
  status: string;
  plan: string;
  items?: { product: string; quantity: number; unit_amount: Money; interval: string; price: string }[];
  current_period_start?: string;
  current_period_end?: string;
  trial_end?: string;
  cancel_at_period_end?: boolean;
  cancel_at?: string;
  canceled_at?: string;
  discounts?: Discount[];
  next_payment?: NextPayment;
  note?: string;
}

/** get_subscription_status */
export interface SubscriptionStatus {
  subscriptions?: Subscription[];
  summary?: string;
}

export interface PlanChoice {
  price_id: string;
  product: string;
  quantity: number;
  amount: Money;
  interval: string;
}

/** preview_plan_change */
export interface PlanChangePreview {
  subscription?: { id: string; plan: string; status: string };
  outcome?: 'link_created' | 'no_change' | 'made_by_merchant';
  from?: PlanChoice;
  to?: PlanChoice;
  charged_now?: Money;
  credited_now?: Money;
  new_recurring?: { amount: Money; interval: string; next_date: string };
  preview?: {
    billed: 'now' | 'next_invoice';
    date: string;
    lines?: { description: string; amount: Money; proration: boolean }[];
    subtotal?: Money;
    discounts?: { name: string; amount: Money }[];
    tax?: Money;
    total?: Money;
    account_balance?: Money;
    credit_kept?: Money;
    amount_due: Money;
  };
  url?: string;
  note?: string;
  summary?: string;
}

export type RequestKind = 'refund' | 'credit' | 'pause' | 'resume' | 'plan_change' | 'retry_payment';

/** A request as every action tool and get_request_status show it (requestViewSchema). */
export interface RequestView {
  id: string;
  kind: RequestKind | string;
  state: string;
  preview: { summary: string; when?: string; amount?: Money; subject?: string };
  approval_because?: string[];
  next?: string;
  stripe_object_id?: string;
  failure_reason?: string;
  note?: string;
  created_at?: string;
}

/** request_* / pause / resume / retry_payment give `request`; get_request_status gives `requests`. */
export interface RequestResult {
  request?: RequestView;
  requests?: RequestView[];
  summary?: string;
}

export type CardView = 'overview' | 'invoices' | 'subscription' | 'plan_change' | 'request';

/** `_meta["stripe-billing/card"]` */
export interface CardMeta {
  view: CardView;
  token: string;
  test_mode: boolean;
  expires_at: string;
}

/** `_meta["stripe-billing/confirmation"]`: the person's secret for one request waiting for them. */
export interface ConfirmationMeta {
  request_id: string;
  token: string;
  expires_at: string;
  url?: string;
}

/** card_confirm_request / card_cancel_request structuredContent */
export interface RequestDecision {
  outcome: string;
  message: string;
  request?: RequestView;
}
