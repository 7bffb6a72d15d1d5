/**
 * Which cache entries a Stripe event makes stale, named by event type in one table. An event
 * only says "this object changed": its payload is never written into the cache; the next read
 * goes to Stripe. Events come late, twice and out of order, and that is fine: invalidating is
 * idempotent, and an entry read before the change was recorded under a token that is now dead.
 */
import type { BillingReads } from './billing-reads.js';

/**
 * - `customer`: the object is a customer: its record and both its old and new email (an email
 *   change moves the record from one look-up to another; `customer.created` clears a cached
 *   "no customer with this email").
 * - `owner`: the object belongs to a customer: its `customer` field, else the customer an
 *   earlier read recorded for it or for the invoice or charge it names (a detached payment
 *   method and a refund carry no customer).
 * - `catalog`: prices, products and coupons every customer's answers use.
 */
type Rule = 'customer' | 'owner' | 'catalog';

/** First match wins, so the specific `customer.subscription.` comes before `customer.`. */
const EVENT_RULES: ReadonlyArray<readonly [prefix: string, rule: Rule]> = [
  ['customer.subscription.', 'owner'],
  ['customer.discount.', 'owner'],
  ['customer.source.', 'owner'],
  ['customer.tax_id.', 'owner'],
  ['customer.', 'customer'],
  ['subscription_schedule.', 'owner'],
  ['invoice.', 'owner'],
  ['invoiceitem.', 'owner'],
  ['invoice_payment.', 'owner'],
  ['charge.', 'owner'],
  ['refund.', 'owner'],
  ['payment_method.', 'owner'],
  ['payment_intent.', 'owner'],
  ['product.', 'catalog'],
  ['price.', 'catalog'],
  ['coupon.', 'catalog'],
  ['promotion_code.', 'catalog'],
  ['billing_portal.configuration.', 'catalog'],
];

export interface StripeEventLike {
  id: string;
  type: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> | undefined };
}

const idOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return undefined;
};

async function ownersOf(reads: BillingReads, object: Record<string, unknown>, previous: Record<string, unknown>): Promise<string[]> {
  const direct = [idOf(object.customer), idOf(previous.customer)].filter((id): id is string => id !== undefined);
  if (direct.length > 0) return direct;
  const named = [idOf(object.id), idOf(object.invoice), idOf(object.charge)].filter((id): id is string => id !== undefined);
  const found = await Promise.all(named.map((id) => reads.ownerOf(id)));
  return found.filter((id): id is string => id !== undefined);
}

/** Makes stale what the event names; returns how many tags it invalidated. */
export async function invalidateForEvent(reads: BillingReads, event: StripeEventLike): Promise<number> {
  const tags = await tagsForEvent(reads, event);
  await reads.cache.invalidate(tags);
  return tags.length;
}

/** The tags an event invalidates; empty for events that touch nothing the tools show. */
async function tagsForEvent(reads: BillingReads, event: StripeEventLike): Promise<string[]> {
  const rule = EVENT_RULES.find(([prefix]) => event.type.startsWith(prefix))?.[1];
  const object = event.data.object;
  const previous = event.data.previous_attributes ?? {};
  const { tags } = reads;
  switch (rule) {
    case 'catalog':
      return [tags.catalog()];
    case 'customer': {
      const emails = [object.email, previous.email].filter((email): email is string => typeof email === 'string' && email !== '');
      const id = idOf(object.id);
      return [...(id ? [tags.customer(id)] : []), ...emails.map((email) => tags.email(email))];
    }
    case 'owner':
      return [...new Set(await ownersOf(reads, object, previous))].map((id) => tags.customer(id));
    default:
      // Types outside the table: anything that names a customer still clears that customer.
      return typeof object.customer === 'string' ? [tags.customer(object.customer)] : [];
  }
}
