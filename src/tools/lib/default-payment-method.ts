/**
 * What an invoice is charged to, in Stripe's precedence: subscription.default_payment_method >
 * subscription.default_source > customer.invoice_settings.default_payment_method >
 * customer.default_source. Callers expand what they can; an id that was not expanded is still
 * reported as "a saved payment method", never as none.
 */
import type { SlimCustomer, SlimPaymentMethod, SlimSource, SlimSubscription } from '../../cache/projections.js';
import { maskPaymentMethod, maskSource, type MaskedPaymentMethod } from '../../format/card.js';

export const NO_PAYMENT_METHOD: MaskedPaymentMethod = { type: 'none', description: 'No default payment method.' };

function maskMethod(method: string | SlimPaymentMethod | null): MaskedPaymentMethod | undefined {
  if (!method) return undefined;
  return typeof method === 'string' ? { type: 'payment_method', description: 'A saved payment method (details not available).' } : maskPaymentMethod(method);
}

/** `known` is the customer's expanded default source: a subscription's source id often names the same one. */
function maskSourceField(source: string | SlimSource | null, known: SlimSource | undefined): MaskedPaymentMethod | undefined {
  if (!source) return undefined;
  const full = typeof source === 'string' ? (known?.id === source ? known : undefined) : source;
  return (full && maskSource(full)) ?? { type: 'source', description: 'A saved payment source (details not available).' };
}

function expandedSource(customer: SlimCustomer): SlimSource | undefined {
  return customer.default_source && typeof customer.default_source !== 'string' ? customer.default_source : undefined;
}

/** The account default Stripe falls back to when a subscription sets none; undefined when there is none. */
export function accountDefaultPaymentMethod(customer: SlimCustomer): MaskedPaymentMethod | undefined {
  return maskMethod(customer.invoice_settings.default_payment_method) ?? maskSourceField(customer.default_source, expandedSource(customer));
}

/** The payment method set on the subscription itself; undefined when it inherits the account default. */
export function subscriptionOwnPaymentMethod(subscription: SlimSubscription, customer: SlimCustomer): MaskedPaymentMethod | undefined {
  return maskMethod(subscription.default_payment_method) ?? maskSourceField(subscription.default_source, expandedSource(customer));
}
