import type Stripe from 'stripe';
import type { SlimCustomer } from '../cache/projections.js';
import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { quoted } from '../format/untrusted-text.js';
import { isoDateSchema, optionalInput } from './lib/schemas.js';
import type { ToolContext } from './lib/context.js';
import { subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { createPortalSession, PORTAL_LINK_NOTE, portalRecord } from './lib/portal.js';
import { afterCompletion, cancelLinkNote, createCancelLink, isFlowDisabled, sessionConfiguration, subscriptionForFlow } from './lib/portal-flows.js';
import { isoDate } from '../format/dates.js';
import { listSubscriptions } from './lib/subscriptions.js';

const PURPOSES = ['update_payment_method', 'update_billing_details', 'change_plan', 'cancel'] as const;
type Purpose = (typeof PURPOSES)[number];
type Opens = Purpose | 'home';

/** What the merchant has not switched on, when a flow is refused, in the customer's words. */
const FEATURE: Record<Purpose, string> = {
  update_payment_method: 'updating the payment method',
  update_billing_details: 'changing billing details',
  change_plan: 'changing plans',
  cancel: 'cancelling subscriptions',
};

/** What the details page can change, as the portal configuration's allowed_updates name it. */
const DETAIL: Record<string, string> = { address: 'billing address', email: 'email', name: 'name', phone: 'phone', shipping: 'shipping address', tax_id: 'tax ids (such as a VAT number)' };

const ISSUED_INVOICES_NOTE =
  'Changes apply to invoices issued from now on: an invoice already issued (finalized) cannot be changed, so its address and tax ids stay as they were. For a corrected copy of an issued invoice the customer asks the merchant’s support.';

/** Statuses only, to pick a record: no expansions, so no permissions beyond subscription read. Live: a link is an action. */
function subscriptionsOf(ctx: ToolContext, customers: readonly SlimCustomer[]) {
  return listSubscriptions(ctx, customers, { withDiscounts: false, live: true });
}

interface Link {
  session: Stripe.BillingPortal.Session;
  opens: Opens;
  note: string;
  summary: string;
}

/** The record a customer-level flow (home, card, details) is for. */
async function recordOf(ctx: ToolContext, customers: readonly SlimCustomer[]): Promise<SlimCustomer> {
  // Staff choosing by customer_id get exactly that record; otherwise the one with a live subscription.
  return customers.length === 1 ? customers[0]! : portalRecord(customers, await subscriptionsOf(ctx, customers));
}

function home(session: Stripe.BillingPortal.Session, note = PORTAL_LINK_NOTE): Link {
  return { session, opens: 'home', note, summary: 'Billing portal link created.' };
}

async function billingDetailsNote(ctx: ToolContext, session: Stripe.BillingPortal.Session): Promise<string> {
  const allowed = (await sessionConfiguration(ctx, session))?.features.customer_update.allowed_updates;
  const can = allowed && allowed.length > 0 ? allowed.map((field) => DETAIL[field] ?? field).join(', ') : undefined;
  const what = can ? ` The merchant lets customers change: ${can}.${allowed!.includes('tax_id') ? '' : ' Tax ids cannot be changed here; the merchant’s support can add them.'}` : '';
  return `This page changes the customer’s billing details.${what} ${ISSUED_INVOICES_NOTE} ${PORTAL_LINK_NOTE}`;
}

async function flowLink(ctx: ToolContext, customers: readonly SlimCustomer[], purpose: Purpose, subscriptionId: string | undefined): Promise<Link> {
  switch (purpose) {
    case 'update_payment_method': {
      const record = await recordOf(ctx, customers);
      const session = await createPortalSession(ctx, record.id, { type: 'payment_method_update', after_completion: afterCompletion(ctx) });
      return { session, opens: purpose, note: `This page updates the card or other payment method used for future payments. ${PORTAL_LINK_NOTE}`, summary: 'Link to update the payment method created.' };
    }
    case 'update_billing_details': {
      const record = await recordOf(ctx, customers);
      // API 2026-08-26: the flow takes no hash of its own; what can change is the configuration's.
      const session = await createPortalSession(ctx, record.id, { type: 'customer_update', after_completion: afterCompletion(ctx) });
      return { session, opens: purpose, note: await billingDetailsNote(ctx, session), summary: 'Link to update billing details created.' };
    }
    case 'change_plan': {
      const chosen = await subscriptionForFlow(ctx, customers, subscriptionId, 'change');
      const { subscription, plan } = chosen;
      if (chosen.kind === 'ended') throw new UserInputError(chosen.note);
      // The portal cannot update a subscription with several items (Stripe refuses the flow).
      if (subscription.items.data.length > 1) {
        const session = await createPortalSession(ctx, subscription.customer);
        return home(session, `${quoted(plan)} has several items, which the billing portal cannot change: the merchant’s team makes this change. This link opens the portal’s home page. ${PORTAL_LINK_NOTE}`);
      }
      const session = await createPortalSession(ctx, subscription.customer, {
        type: 'subscription_update',
        subscription_update: { subscription: subscription.id },
        after_completion: afterCompletion(ctx),
      });
      return {
        session,
        opens: purpose,
        note: `This page lists the plans the customer may switch ${quoted(plan)} to and shows the price before they confirm; nothing changes until they do. ${PORTAL_LINK_NOTE}`,
        summary: `Plan change link created for ${quoted(plan)}.`,
      };
    }
    case 'cancel': {
      const chosen = await subscriptionForFlow(ctx, customers, subscriptionId, 'cancel');
      if (chosen.kind !== 'open') {
        // Nothing to cancel: the home page is where a scheduled cancellation is undone.
        return home(await createPortalSession(ctx, chosen.subscription.customer), `${chosen.note} This link opens the portal’s home page. ${PORTAL_LINK_NOTE}`);
      }
      const link = await createCancelLink(ctx, chosen.subscription);
      return { session: link.session, opens: purpose, note: cancelLinkNote(link), summary: `Cancellation link created for ${quoted(chosen.plan)}.` };
    }
  }
}

export default defineTool({
  name: 'get_billing_portal_link',
  title: 'Billing portal link',
  description:
    "A personal, short-lived link to the self-service billing portal, opened on the page for `purpose` (home when null): update_payment_method (card), update_billing_details (address, tax ids, email: for future invoices; an invoice already issued cannot be changed), change_plan, cancel. Changes nothing by itself: the customer confirms in the portal.",
  audience: 'customer',
  discloses: ['billing_portal_link'],
  writes: 'portal_session',
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_billing_portal_session_write'],
  optionalPermissions: {
    rak_product_read: 'product names (plans are named by their price)',
    rak_billing_portal_configuration_read: 'what the page can change or what cancelling does',
  },
  portal: 'session',
  inputSchema: {
    purpose: optionalInput(z.enum(PURPOSES)).describe('The page the link opens on; null for the portal home.'),
    subscription_id: subscriptionIdSchema.describe('For change_plan or cancel, when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: {
    url: z.string(),
    created: isoDateSchema,
    opens: z.enum(['home', ...PURPOSES]).describe('The page the link opens on (home when the portal does not allow the purpose).'),
    note: z.string(),
    summary: z.string(),
  },
  // readOnlyHint: the call creates a portal session (a login link), but changes no billing
  // state; anything the customer then does happens in the portal, by the customer's own hand.
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const purpose = input.purpose;
    let link: Link;
    if (!purpose) {
      link = home(await createPortalSession(ctx, (await recordOf(ctx, customers)).id));
    } else {
      try {
        link = await flowLink(ctx, customers, purpose, input.subscription_id);
      } catch (error) {
        if (!isFlowDisabled(error)) throw error;
        // The merchant switched this page off: the home page still helps (invoices, what is enabled).
        const session = await createPortalSession(ctx, (await recordOf(ctx, customers)).id);
        link = home(
          session,
          `The merchant has not enabled ${FEATURE[purpose]} in the billing portal, so this link opens the portal’s home page instead; for anything not offered there, the customer can contact the merchant’s support. ${PORTAL_LINK_NOTE}`,
        );
      }
    }
    return { url: link.session.url, created: isoDate(link.session.created), opens: link.opens, note: link.note, summary: link.summary };
  },
  summarize(output) {
    return `${output.summary} ${output.url}\n${output.note}`;
  },
});
