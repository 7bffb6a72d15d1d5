/**
 * get_subscription_status: each plan with its status, renewal or cancellation, discounts and next
 * payment; "Change plan" per current subscription and "Manage billing" for the rest.
 */
import { el, row, section } from './dom.js';
import { formatDate, formatMoney } from './format.js';
import { buttonRow, discounts, header, isLive, nextPayment, statusChip, type RenderContext } from './render-common.js';
import type { Subscription, SubscriptionStatus } from './types.js';

/** "49,00 € per month" in the person's locale; "2 × Seats: …" when there are several. */
function itemPrice(item: NonNullable<Subscription['items']>[number], context: RenderContext): string {
  const each = item.unit_amount ? `${formatMoney(item.unit_amount, context.where)} per ${item.interval}` : item.price;
  return item.quantity > 1 ? `${item.quantity} × ${item.product}: ${each}` : each;
}

/** When it renews, ends or ended: the date a person plans around. */
function renewal(subscription: Subscription, context: RenderContext): HTMLElement | null {
  const date = (iso: string | undefined) => formatDate(iso, context.where);
  if (subscription.canceled_at && !isLive(subscription)) return row('Ended', date(subscription.canceled_at), { 'data-testid': 'cancel-state' });
  const endsAt = subscription.cancel_at ?? (subscription.cancel_at_period_end ? subscription.current_period_end : undefined);
  if (endsAt) return row('Ends', `${date(endsAt)} (cancellation scheduled; no renewal)`, { 'data-testid': 'cancel-state', class: 'warn' });
  if (subscription.status === 'trialing' && subscription.trial_end) return row('Trial ends', date(subscription.trial_end), { 'data-testid': 'renewal' });
  if (isLive(subscription) && subscription.status !== 'paused' && subscription.current_period_end) return row('Renews', date(subscription.current_period_end), { 'data-testid': 'renewal' });
  return null;
}

function subscriptionBlock(subscription: Subscription, context: RenderContext): HTMLElement {
  const items = subscription.items ?? [];
  return el(
    'div',
    { class: 'subscription', 'data-subscription-id': subscription.id },
    el('div', { class: 'title-row' }, el('span', { class: 'plan', 'data-testid': 'plan' }, subscription.plan), statusChip(subscription.status, { 'data-testid': 'status' })),
    items.length > 0 && el('p', { class: 'muted' }, items.map((item) => itemPrice(item, context)).join(' + ')),
    renewal(subscription, context),
    discounts(subscription.discounts),
    ...(isLive(subscription) ? nextPayment(subscription.next_payment, context) : []),
    subscription.note && el('p', { class: 'muted' }, subscription.note),
    isLive(subscription) && buttonRow('plan', context.actions.portalButton('change_plan', 'Change plan', subscription.id)),
  );
}

export function renderSubscription(data: SubscriptionStatus, context: RenderContext): HTMLElement[] {
  const subscriptions = data.subscriptions ?? [];
  const live = subscriptions.filter(isLive);
  const ended = subscriptions.filter((subscription) => !isLive(subscription));
  const parts: (HTMLElement | null)[] = [header(live.length > 1 ? 'Your plans' : 'Your plan', context)];
  if (live.length === 0) parts.push(el('p', {}, 'No current subscription.'));
  parts.push(...live.map((subscription) => subscriptionBlock(subscription, context)));
  if (ended.length > 0) parts.push(section('Ended', ...ended.map((subscription) => subscriptionBlock(subscription, context))));
  parts.push(buttonRow('portal', context.actions.portalButton('manage', 'Manage billing', null)));
  return parts.filter((part): part is HTMLElement => part !== null);
}
