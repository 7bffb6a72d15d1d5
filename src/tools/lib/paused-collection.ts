import type Stripe from 'stripe';
import type { ToolContext } from './context.js';

/**
 * A subscription's `pause_collection`, read fresh from Stripe: the cached projections leave it
 * out, and an action decides on what Stripe says now.
 */
export async function pausedCollection(ctx: ToolContext, subscriptionId: string): Promise<Stripe.Subscription.PauseCollection | null> {
  const subscription = await ctx.stripe.subscriptions.retrieve(subscriptionId);
  return subscription.pause_collection ?? null;
}
