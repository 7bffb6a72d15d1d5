/**
 * Portal deep links (`flow_data`): the session opens straight on one flow, so the customer
 * confirms on Stripe's own screen. Shared by get_billing_portal_link (its `purpose`) and
 * cancel_subscription, so a cancel link is the same whichever tool made it.
 */
import type Stripe from 'stripe';
import type { SlimCustomer, SlimSubscription } from '../../cache/projections.js';
import { ToolError } from '../../errors.js';
import { money } from '../../format/money.js';
import { quoted } from '../../format/untrusted-text.js';
import { isStripeError } from '../../stripe/errors.js';
import { chooseSubscription } from './choose-subscription.js';
import type { ToolContext } from './context.js';
import { createPortalSession, PORTAL_FLOW_DISABLED_MESSAGE, PORTAL_LINK_NOTE } from './portal.js';

type FlowData = Stripe.BillingPortal.SessionCreateParams.FlowData;

export const CANCEL_TIMING_NOTE =
  'Whether it ends immediately or at the end of the paid period is the merchant’s portal setting; the portal shows which before the customer confirms.';

/** When the flow is done: back to the merchant's page when one is set, else the portal's home. */
export function afterCompletion(ctx: ToolContext): Stripe.BillingPortal.SessionCreateParams.FlowData.AfterCompletion {
  const returnUrl = ctx.settings.portalReturnUrl;
  return returnUrl ? { type: 'redirect', redirect: { return_url: returnUrl } } : { type: 'portal_homepage' };
}

/** The portal configuration has this flow's feature switched off (createPortalSession's safe error). */
export function isFlowDisabled(error: unknown): boolean {
  return error instanceof ToolError && error.kind === 'configuration' && error.message === PORTAL_FLOW_DISABLED_MESSAGE;
}

/**
 * The configuration a session was made with, to say what its flow does (cancel timing, which
 * details can change). Optional: without the permission the answer says the portal shows it.
 */
export async function sessionConfiguration(ctx: ToolContext, session: Stripe.BillingPortal.Session): Promise<Stripe.BillingPortal.Configuration | undefined> {
  if (typeof session.configuration !== 'string') return session.configuration;
  const id = session.configuration;
  return ctx.sections.read(
    'rak_billing_portal_configuration_read',
    async () => {
      try {
        return await ctx.stripe.billingPortal.configurations.retrieve(id);
      } catch (error) {
        if (isStripeError(error) && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    undefined,
  );
}

/** "25% off for 3 months": a coupon's terms in plain words, with its name quoted (merchant text). */
export function describeCoupon(coupon: Stripe.Coupon, currency: string): string {
  const amountOff = coupon.currency_options?.[currency]?.amount_off ?? (coupon.currency === currency ? coupon.amount_off : null);
  const off = coupon.percent_off
    ? `${coupon.percent_off}% off`
    : amountOff
      ? `${money(amountOff, currency).formatted} off`
      : coupon.amount_off && coupon.currency
        ? `${money(coupon.amount_off, coupon.currency).formatted} off`
        : 'a discount';
  const lasts =
    coupon.duration === 'once'
      ? ' the next invoice'
      : coupon.duration === 'repeating' && coupon.duration_in_months
        ? ` for ${coupon.duration_in_months} month${coupon.duration_in_months === 1 ? '' : 's'}`
        : coupon.duration === 'forever'
          ? ' every invoice, for as long as the subscription lasts'
          : '';
  const terms = `${off}${lasts}`;
  // The name is the merchant's text (quoted); left out when it only repeats the terms.
  const named = coupon.name && coupon.name.trim().toLowerCase() !== terms.toLowerCase() ? ` (the merchant calls it ${quoted(coupon.name)})` : '';
  return `${terms}${named}`;
}

export interface RetentionOffer {
  coupon: string;
  /** Plain words, for the answer. */
  description: string;
}

/**
 * The merchant's retention offer (CANCEL_RETENTION_COUPON, or the tenant's), when set and still
 * redeemable. A deleted or expired coupon is left out, so the customer still gets a working
 * cancel link (doctor warns the merchant). A key without Coupons: Read still sends the offer,
 * undescribed: the read depends on a setting, so doctor's retention row names the permission
 * rather than every answer.
 */
export async function retentionOffer(ctx: ToolContext, currency: string): Promise<RetentionOffer | undefined> {
  const id = ctx.settings.cancelRetentionCoupon;
  if (!id) return undefined;
  let coupon: Stripe.Coupon | null | undefined;
  try {
    coupon = await ctx.stripe.coupons.retrieve(id);
  } catch (error) {
    if (isStripeError(error) && error.statusCode === 404) coupon = null;
    else if (isStripeError(error) && error.statusCode === 403) coupon = undefined;
    else throw error;
  }
  if (coupon === null || coupon?.valid === false) {
    ctx.log.warn({ coupon: id, outcome: coupon === null ? 'missing' : 'not_valid' }, 'cancel retention coupon cannot be offered; link made without it');
    return undefined;
  }
  return { coupon: id, description: coupon ? describeCoupon(coupon, currency) : 'a discount (the portal shows its terms)' };
}

/** What confirming in the portal does, per its configuration: when it ends, and refunds or credits. */
export function cancellationTerms(configuration: Stripe.BillingPortal.Configuration | undefined, subscription: SlimSubscription): string {
  const trialing = subscription.status === 'trialing';
  const end = trialing ? subscription.trial_end : subscription.items.data[0]?.current_period_end;
  const day = end ? new Date(end * 1000).toISOString().slice(0, 10) : undefined;
  if (!configuration) return `${CANCEL_TIMING_NOTE}${day && !trialing ? ` The current period runs until ${day}.` : ''}`;
  const cancel = configuration.features.subscription_cancel;
  if (cancel.mode === 'at_period_end') {
    const date = day ? ` (${day})` : '';
    return trialing
      ? `If they confirm, the subscription stays active until the trial ends${date} and then ends; nothing is charged.`
      : `If they confirm, the subscription stays active until the end of the period already paid for${date} and then ends: nothing more is charged, and nothing is refunded for that period.`;
  }
  if (trialing) return 'If they confirm, the subscription ends at once; nothing is charged.';
  return cancel.proration_behavior === 'create_prorations'
    ? 'If they confirm, the subscription ends at once, and the unused part of the period already paid for becomes a credit on their account for future invoices (not a refund to the card).'
    : 'If they confirm, the subscription ends at once, with no refund or credit for the unused part of the period already paid for.';
}

export interface CancelLink {
  session: Stripe.BillingPortal.Session;
  offer: RetentionOffer | undefined;
  terms: string;
}

const cancelFlow = (ctx: ToolContext, subscription: string, offer: RetentionOffer | undefined): FlowData => ({
  type: 'subscription_cancel',
  subscription_cancel: {
    subscription,
    ...(offer ? { retention: { type: 'coupon_offer' as const, coupon_offer: { coupon: offer.coupon } } } : {}),
  },
  after_completion: afterCompletion(ctx),
});

/** A session on the portal's cancel flow for this subscription, with the retention offer when there is one. */
export async function createCancelLink(ctx: ToolContext, subscription: SlimSubscription): Promise<CancelLink> {
  let offer = await retentionOffer(ctx, subscription.currency);
  let session: Stripe.BillingPortal.Session;
  try {
    session = await createPortalSession(ctx, subscription.customer, cancelFlow(ctx, subscription.id, offer));
  } catch (error) {
    // Stripe refused the offer itself (say, the coupon went after we read it): the customer
    // still gets the cancel link they asked for, without the offer.
    if (!offer || !isStripeError(error) || !/retention/.test(error.param ?? '')) throw error;
    ctx.log.warn({ coupon: offer.coupon, requestId: error.requestId }, 'Stripe refused the cancel retention offer; link made without it');
    offer = undefined;
    session = await createPortalSession(ctx, subscription.customer, cancelFlow(ctx, subscription.id, undefined));
  }
  const terms = cancellationTerms(await sessionConfiguration(ctx, session), subscription);
  return { session, offer, terms };
}

/** The note of a cancel link: nothing happened yet, the offer, what confirming does, and the link's care. */
export function cancelLinkNote(link: CancelLink): string {
  const offer = link.offer ? ` Before they confirm, the portal offers them ${link.offer.description} to stay; accepting keeps the subscription with that discount.` : '';
  return `Nothing has been canceled yet: the customer confirms on this page.${offer} ${link.terms} ${PORTAL_LINK_NOTE}`;
}

/** A subscription the customer may cancel or change in the portal; ended or already scheduled ones are said in words. */
export type SubscriptionState =
  | { kind: 'open'; subscription: SlimSubscription; plan: string }
  | { kind: 'ended' | 'scheduled'; subscription: SlimSubscription; plan: string; note: string; when?: string };

export async function subscriptionForFlow(
  ctx: ToolContext,
  customers: readonly SlimCustomer[],
  subscriptionId: string | undefined,
  action: string,
): Promise<SubscriptionState> {
  const { subscription, view } = await chooseSubscription(ctx, customers, subscriptionId, action, { withDiscounts: false });
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    return { kind: 'ended', subscription, plan: view.plan, note: `This subscription has already ended; there is nothing to ${action}.` };
  }
  if (subscription.cancel_at_period_end || subscription.cancel_at) {
    const end = view.cancel_at ?? view.current_period_end;
    const when = end ? ` on ${end.slice(0, 10)}` : '';
    return {
      kind: 'scheduled',
      subscription,
      plan: view.plan,
      when,
      note: `This subscription is already set to end${when}; no further payments will be taken. The customer can undo this in the billing portal if they change their mind.`,
    };
  }
  return { kind: 'open', subscription, plan: view.plan };
}
