import { createHash, randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { idOf, type SlimCustomer, type SlimSubscription } from '../cache/projections.js';
import { z } from 'zod';
import { ToolError, UserInputError } from '../errors.js';
import { isoDate } from '../format/dates.js';
import { money, type Money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { isStripeError, stripeErrorCode } from '../stripe/errors.js';
import { chooseSubscription, subscriptionIdSchema } from './lib/choose-subscription.js';
import type { ToolContext } from './lib/context.js';
import { defineTool } from './lib/define-tool.js';
import { boundedString, isoDateSchema, matching, moneySchema } from './lib/schemas.js';
import { LIVE_STATUSES, type SubscriptionView } from './lib/subscriptions.js';

/**
 * One answer for unknown, inactive and other customers' codes: whether a code exists for
 * somebody else is not this customer's business (no oracle).
 */
export const INVALID_CODE_MESSAGE = "That code isn't valid. Ask the customer to check the spelling; codes are not case-sensitive.";

type Resolved =
  | { kind: 'promotion_code'; id: string; code: string; promo: Stripe.PromotionCode; coupon: Stripe.Coupon }
  | { kind: 'coupon'; id: string; code: string; coupon: Stripe.Coupon };


function couponDescription(coupon: Stripe.Coupon, currency: string): string {
  const amountOff = coupon.currency_options?.[currency]?.amount_off ?? (coupon.currency === currency ? coupon.amount_off : null);
  const off = coupon.percent_off ? `${coupon.percent_off}% off` : amountOff ? `${money(amountOff, currency).formatted} off` : 'A discount';
  if (coupon.duration === 'once') return `${off} the next invoice`;
  if (coupon.duration === 'repeating' && coupon.duration_in_months) return `${off} for ${coupon.duration_in_months} month${coupon.duration_in_months === 1 ? '' : 's'}`;
  if (coupon.duration === 'forever') return `${off} every invoice`;
  return off;
}

const CODES_PER_HOUR = 5;
const TOO_MANY_CODES_MESSAGE = 'Too many codes were tried. Ask the customer to try again in an hour, with the exact code from the offer.';

/**
 * Guessing codes through a chat is capped per customer and per conversation: each code tried is counted before
 * it is looked up (so parallel guesses cannot slip past the count), and past CODES_PER_HOUR codes
 * are refused without a look-up, so the tool is no oracle for open codes.
 */
async function countCodeAttempt(ctx: ToolContext, customers: readonly SlimCustomer[]): Promise<void> {
  // Merchant staff apply codes for customers; the guessing this stops comes through a chat.
  if (ctx.principal.kind === 'staff') return;
  const keys = [`coupon-codes:customer:${customers[0]!.id}`, ...(ctx.conversation ? [`coupon-codes:conversation:${ctx.conversation}`] : [])];
  const counts = await Promise.all(keys.map((key) => ctx.store.increment(key, 3600_000)));
  if (counts.some((count) => count > CODES_PER_HOUR)) throw new UserInputError(TOO_MANY_CODES_MESSAGE);
}

/** A customer-typed promotion code, else an allowlisted raw coupon id; refusals say nothing about other customers. */
async function resolveCode(ctx: ToolContext, typed: string, recordIds: ReadonlySet<string>): Promise<Resolved> {
  const page = await ctx.stripe.promotionCodes.list({ code: typed, active: true, limit: 10, expand: ['data.promotion.coupon'] });
  // Codes are unique per customer among active codes, so one typed code can name several promotion codes.
  const candidates = page.data.filter((promo) => promo.code.toLowerCase() === typed.toLowerCase());
  const mine = candidates.find((promo) => recordIds.has(idOf(promo.customer) ?? ''));
  const open = candidates.find((promo) => promo.customer === null);
  const promo = mine ?? open;
  if (promo) {
    const coupon = promo.promotion.coupon;
    if (!coupon || typeof coupon === 'string') throw new ToolError('internal', 'The code could not be checked. Please try again.', { promo: promo.id });
    return { kind: 'promotion_code', id: promo.id, code: promo.code, promo, coupon };
  }
  if (ctx.settings.couponAllowlist.includes(typed)) {
    try {
      const coupon = await ctx.stripe.coupons.retrieve(typed);
      return { kind: 'coupon', id: coupon.id, code: coupon.id, coupon };
    } catch (error) {
      if (stripeErrorCode(error) === 'resource_missing') {
        throw new ToolError('input', INVALID_CODE_MESSAGE, { problem: 'COUPON_ALLOWLIST names a coupon that does not exist', coupon: typed });
      }
      throw error;
    }
  }
  throw new UserInputError(INVALID_CODE_MESSAGE);
}

async function hasPaidBefore(ctx: ToolContext, customers: readonly SlimCustomer[]): Promise<boolean> {
  const pages = await Promise.all(customers.map((customer) => ctx.stripe.invoices.list({ customer: customer.id, status: 'paid', limit: 20 })));
  return pages.some((page) => page.data.some((invoice) => invoice.amount_paid > 0));
}

/** What the subscription bills per cycle before discounts: the amount Stripe checks minimum_amount against. */
function recurringAmount(subscription: SlimSubscription): number {
  return subscription.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
}

/** Every restriction Stripe enforces, checked first so each refusal gets a specific, safe sentence. */
async function checkRestrictions(
  ctx: ToolContext,
  resolved: Resolved,
  subscription: SlimSubscription,
  view: SubscriptionView,
  customers: readonly SlimCustomer[],
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const { coupon } = resolved;
  const currency = subscription.currency;
  if (resolved.kind === 'promotion_code') {
    const { promo } = resolved;
    if (promo.expires_at !== null && promo.expires_at <= now) throw new UserInputError('That code has expired.');
    if (promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions) {
      throw new UserInputError('That code has already been used the maximum number of times.');
    }
    const minimum = promo.restrictions.currency_options?.[currency]?.minimum_amount ?? (promo.restrictions.minimum_amount_currency === currency ? promo.restrictions.minimum_amount : null);
    if (promo.restrictions.minimum_amount !== null && minimum === null) {
      throw new UserInputError(`That code can't be used with a subscription billed in ${currency.toUpperCase()}.`);
    }
    if (minimum !== null && recurringAmount(subscription) < minimum) {
      throw new UserInputError(
        `That code needs a purchase of at least ${money(minimum, currency).formatted}; the ${quoted(view.plan)} subscription is ${money(recurringAmount(subscription), currency).formatted}.`,
      );
    }
    if (promo.restrictions.first_time_transaction && (await hasPaidBefore(ctx, customers))) {
      throw new UserInputError('That code is only for first-time customers, and this account has already made payments.');
    }
  }
  if (!coupon.valid || (coupon.redeem_by !== null && coupon.redeem_by <= now)) throw new UserInputError('That code is no longer valid.');
  if (coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions) {
    throw new UserInputError('That code has already been used the maximum number of times.');
  }
  if (!coupon.percent_off && coupon.amount_off && coupon.currency !== currency && !coupon.currency_options?.[currency]) {
    throw new UserInputError(`That code can't be used with a subscription billed in ${currency.toUpperCase()}.`);
  }
  const products = coupon.applies_to?.products ?? [];
  if (products.length > 0 && !subscription.items.data.some((item) => products.includes(item.price.product))) {
    throw new UserInputError(`That code doesn't apply to the ${quoted(view.plan)} plan.`);
  }
}

function alreadyApplied(subscription: SlimSubscription, resolved: Resolved): boolean {
  return subscription.discounts.some((discount) => {
    if (typeof discount === 'string') return false;
    if (resolved.kind === 'promotion_code' && discount.promotion_code === resolved.id) return true;
    return idOf(discount.source.coupon) === resolved.coupon.id;
  });
}

/**
 * The Stripe idempotency key of this attempt. Calls that overlap, or a retry after a failure,
 * share one key (so the code is applied once); once an attempt succeeded the key is let go, so
 * applying the code again after it was removed is a new request, not a replay of the first answer.
 */
async function attemptKey(ctx: ToolContext, claim: string): Promise<{ idempotencyKey: string; done(): Promise<void> }> {
  const mine = randomBytes(6).toString('base64url');
  let nonce = mine;
  try {
    if (!(await ctx.store.setIfAbsent(claim, mine, 24 * 60 * 60_000))) nonce = (await ctx.store.get(claim)) ?? mine;
  } catch {
    // Without the store, Stripe's own idempotency still covers overlapping calls of this process's key.
  }
  return {
    idempotencyKey: `${claim}:${nonce}`,
    done: () => ctx.store.delete(claim).catch(() => {}),
  };
}

/** The subscription's current discounts, order aside, as a short digest for the idempotency key. */
function discountSetDigest(discounts: ReadonlyArray<{ discount: string }>): string {
  const ids = discounts.map((entry) => entry.discount).sort().join(',');
  return createHash('sha256').update(ids).digest('base64url').slice(0, 16);
}

/** The next invoice's amount due, or undefined when nothing is upcoming (e.g. set to cancel). */
async function nextInvoice(ctx: ToolContext, customer: string, subscription: string): Promise<{ date: string; amount: Money } | undefined> {
  try {
    const preview = await ctx.stripe.invoices.createPreview({ customer, subscription });
    return { date: isoDate(preview.next_payment_attempt ?? preview.period_end), amount: money(preview.amount_due, preview.currency) };
  } catch (error) {
    if (stripeErrorCode(error) === 'invoice_upcoming_none') return undefined;
    throw error;
  }
}

export default defineTool({
  name: 'apply_coupon',
  title: 'Apply promotion code',
  description:
    "Applies a promotion code the customer typed to their subscription and reports the next invoice before and after. Use only with a code the customer gave you; never guess or suggest codes. Refuses codes that are invalid, expired or not eligible, with the reason.",
  audience: 'customer',
  discloses: ['discount'],
  writes: 'coupon_applied',
  write: true,
  usesStore: true,
  permissions: [
    'rak_customer_read',
    'rak_subscription_read',
    'rak_subscription_write',
    'rak_promotion_code_read',
    'rak_coupon_read',
    'rak_invoice_read',
  ],
  optionalPermissions: { rak_product_read: 'product names (plans are named by their price)' },
  inputSchema: {
    // Underscores are allowed too: raw coupon ids from COUPON_ALLOWLIST often have them.
    code: matching(boundedString({ min: 1, max: 64, trim: true }), /^[A-Za-z0-9_-]+$/, 'a code has only letters, digits and dashes').describe(
      'The promotion code exactly as the customer typed it.',
    ),
    subscription_id: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: {
    outcome: z.enum(['applied', 'already_applied']),
    code: z.string(),
    discount: z.string().describe('what the code gives, in words'),
    subscription: z.object({ id: z.string(), plan: z.string() }),
    next_invoice: z
      .object({ date: isoDateSchema, before: moneySchema, after: moneySchema })
      .optional()
      .describe('amount due on the next invoice without and with the code; absent when nothing is upcoming'),
    note: z.string(),
    summary: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const { subscription, view } = await chooseSubscription(ctx, customers, input.subscription_id, 'apply a code to');
    if (!LIVE_STATUSES.has(subscription.status)) throw new UserInputError('That subscription has ended, so a code cannot be applied to it.');
    const recordIds = new Set(customers.map((customer) => customer.id));
    await countCodeAttempt(ctx, customers);
    const resolved = await resolveCode(ctx, input.code, recordIds);
    const discount = couponDescription(resolved.coupon, subscription.currency);
    const about = { id: subscription.id, plan: view.plan };

    if (alreadyApplied(subscription, resolved)) {
      return {
        outcome: 'already_applied' as const,
        code: resolved.code,
        discount,
        subscription: about,
        note: 'This code is already applied to this subscription; nothing was changed.',
        summary: `${resolved.code} is already applied to ${quoted(view.plan)}.`,
      };
    }
    await checkRestrictions(ctx, resolved, subscription, view, customers);

    const customer = subscription.customer;
    const before = await nextInvoice(ctx, customer, subscription.id);
    // A non-empty `discounts` REPLACES the subscription's discounts: re-send the existing ones.
    const keep = subscription.discounts.map((existing) => ({ discount: typeof existing === 'string' ? existing : existing.id }));
    const added = resolved.kind === 'promotion_code' ? { promotion_code: resolved.id } : { coupon: resolved.id };
    const attempt = await attemptKey(ctx, `apply_coupon:${subscription.id}:${resolved.id}:${discountSetDigest(keep)}`);
    try {
      await ctx.stripe.subscriptions.update(subscription.id, { discounts: [...keep, added] }, { idempotencyKey: attempt.idempotencyKey });
      await attempt.done();
    } catch (error) {
      // A rule we did not pre-check (Stripe's text names ids and amounts): one safe refusal.
      if (isStripeError(error) && error.statusCode === 400 && error.type === 'StripeInvalidRequestError' && error.param?.startsWith('discounts')) {
        throw new ToolError('input', "That code can't be applied to this subscription.", { stripeMessage: error.message, requestId: error.requestId });
      }
      throw error;
    }
    // The customer's next question must see the discount, webhooks or not.
    await ctx.reads.invalidateCustomer(customer);
    const after = await nextInvoice(ctx, customer, subscription.id);
    const next = before && after ? { date: after.date, before: before.amount, after: after.amount } : undefined;
    return {
      outcome: 'applied' as const,
      code: resolved.code,
      discount,
      subscription: about,
      next_invoice: next,
      note: next
        ? `Applied. The next invoice on ${next.date.slice(0, 10)} goes from ${next.before.formatted} to ${next.after.formatted}.`
        : 'Applied. There is no upcoming invoice for this subscription, so the discount shows on the next one if it renews.',
      summary: `${resolved.code} applied to ${quoted(view.plan)}: ${discount}.`,
    };
  },
  summarize(output) {
    return `${output.summary} ${output.note} Subscription ${output.subscription.id}.`;
  },
});
