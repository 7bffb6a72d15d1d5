import { z } from 'zod';
import type { SlimCustomer, SlimSubscription } from '../../cache/projections.js';
import { ToolError, UserInputError } from '../../errors.js';
import { quoted } from '../../format/untrusted-text.js';
import type { ToolContext } from './context.js';
import { matching, optionalInput } from './schemas.js';
import { describeSubscriptions, LIVE_STATUSES, listSubscriptions, type SubscriptionView } from './subscriptions.js';

/** One message for "no such id" and "someone else's id", so ids cannot be probed. */
export const SUBSCRIPTION_NOT_FOUND_MESSAGE = 'No subscription with that id was found on this account. Call get_subscription_status to see this customer’s subscriptions.';

export interface ChosenSubscription {
  subscription: SlimSubscription;
  view: SubscriptionView;
}

/** A subscription id argument; optional wherever it is taken (see optionalInput). */
export const subscriptionIdSchema = optionalInput(matching(z.string().trim(), /^sub_[A-Za-z0-9]+$/, 'subscription_id looks like sub_…'));

function listPlans(views: readonly SubscriptionView[]): string {
  return views.map((view) => `${quoted(view.plan)} (${view.id}, ${view.status})`).join('; ');
}

/**
 * The subscription an action is about: the given id when it is one of the customer's own
 * (any record), else their only live subscription. Several live ones and no id is an input
 * error that lists them, so the model can ask the customer which one.
 */
export async function chooseSubscription(
  ctx: ToolContext,
  customers: readonly SlimCustomer[],
  subscriptionId: string | undefined,
  action: string,
  /** False when the action never looks at discounts (they need rak_coupon_read). */
  { withDiscounts = true }: { withDiscounts?: boolean } = {},
): Promise<ChosenSubscription> {
  // Actions decide on what Stripe says now, not on a cached answer.
  const subscriptions = await listSubscriptions(ctx, customers, { live: true, withDiscounts });
  if (subscriptionId) {
    const subscription = subscriptions.find((sub) => sub.id === subscriptionId);
    if (!subscription) throw new ToolError('not_found', SUBSCRIPTION_NOT_FOUND_MESSAGE);
    const [view] = await describeSubscriptions(ctx, [subscription]);
    return { subscription, view: view! };
  }
  const live = subscriptions.filter((sub) => LIVE_STATUSES.has(sub.status));
  if (live.length === 0) {
    throw new ToolError('not_found', `There is no current subscription to ${action}.`);
  }
  const views = await describeSubscriptions(ctx, live);
  if (live.length > 1) {
    throw new UserInputError(`This customer has ${live.length} current subscriptions; ask which one and pass its subscription_id: ${listPlans(views)}.`);
  }
  return { subscription: live[0]!, view: views[0]! };
}
