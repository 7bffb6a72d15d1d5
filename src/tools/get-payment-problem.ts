import { z } from 'zod';
import { ToolError } from '../errors.js';
import { quoted } from '../format/untrusted-text.js';
import { day, parts } from './lib/answer-text.js';
import type { ToolContext } from './lib/context.js';
import { defineTool } from './lib/define-tool.js';
import { describePaymentProblems, loadPaymentProblems, paymentProblemSchema, type PaymentProblem } from './lib/payment-problems.js';
import { createPortalSession, PORTAL_LINK_NOTE } from './lib/portal.js';

const NO_PORTAL_NOTE = 'No billing-portal link could be made (the portal is not set up to update cards on this account): the customer can pay from the invoice’s payment page, or contact the merchant’s support to change the card.';

/**
 * One portal session per record with a problem, opened on updating the card. Without the
 * permission (optional section) or a portal set up for it, the answer goes without the link.
 */
async function cardUpdateLinks(ctx: ToolContext, problems: readonly PaymentProblem[]): Promise<{ links: Map<string, string>; note: string | undefined }> {
  const records = [...new Set(problems.map((problem) => problem.customer_id).filter((id): id is string => id !== undefined))];
  const links = new Map<string, string>();
  if (records.length === 0) return { links, note: undefined };
  const returnUrl = ctx.settings.portalReturnUrl;
  try {
    await ctx.sections.read(
      'rak_billing_portal_session_write',
      async () => {
        for (const record of records) {
          const session = await createPortalSession(ctx, record, {
            type: 'payment_method_update',
            // Back to the merchant's site when it has a page for it; else the portal's home.
            after_completion: returnUrl ? { type: 'redirect', redirect: { return_url: returnUrl } } : { type: 'portal_homepage' },
          });
          links.set(record, session.url);
        }
      },
      undefined,
    );
  } catch (error) {
    // The portal is not set up (or not for cards): the rest of the answer still holds.
    if (error instanceof ToolError && error.kind === 'configuration') {
      ctx.log.warn({ outcome: error.kind, detail: error.logDetail }, 'payment problem: no portal link');
      return { links, note: NO_PORTAL_NOTE };
    }
    throw error;
  }
  return { links, note: links.size > 0 ? PORTAL_LINK_NOTE : undefined };
}

export default defineTool({
  name: 'get_payment_problem',
  title: 'Failed payment: why and what to do',
  description:
    "Why the customer's payment failed and how to fix it: what failed and when, the reason in plain words, amount due, next retry, a link to update the card and the invoice's payment page. Use for 'my payment failed', 'why was my card declined', 'my account is past due'. Read-only.",
  audience: 'customer',
  discloses: ['subscription', 'invoices', 'payments', 'billing_portal_link'],
  writes: 'portal_session',
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_invoice_read'],
  optionalPermissions: {
    rak_charge_read: 'why a payment failed (the decline reason) and failed one-off payments',
    rak_billing_portal_session_write: 'the billing-portal link to update the card',
    rak_product_read: 'product names (plans are named by their price)',
  },
  inputSchema: {},
  outputSchema: {
    problems: z.array(paymentProblemSchema).describe('empty when nothing is wrong'),
    portal_note: z.string().optional(),
    summary: z.string(),
  },
  // Creates a portal session at most (a login link); no billing state changes.
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    const found = await loadPaymentProblems(ctx, customers);
    const { links, note } = await cardUpdateLinks(ctx, found);
    const problems = found.map(({ customer_id, ...problem }) => {
      const portal = customer_id ? links.get(customer_id) : undefined;
      return portal ? { ...problem, portal_url: portal } : problem;
    });
    return { problems, ...(note ? { portal_note: note } : {}), summary: describePaymentProblems(problems) };
  },
  summarize(output) {
    if (output.problems.length === 0) return output.summary;
    const lines = output.problems.map((problem) => {
      const due = problem.amount_due ? ` Due: ${problem.amount_due.formatted}.` : '';
      const links = [problem.portal_url ? `Update the card: ${problem.portal_url}` : '', problem.pay_url ? `Pay the invoice: ${problem.pay_url}` : ''].filter(Boolean).join(' ');
      const staff = [problem.seller_message ? `Stripe says: ${problem.seller_message}.` : '', problem.risk_level ? `Risk level: ${problem.risk_level}.` : ''].filter(Boolean).join(' ');
      // The ids are what retry_payment and the other tools take; the dates say when it failed.
      const ids = [problem.invoice ? `invoice ${problem.invoice.number ? `${quoted(problem.invoice.number)} ` : ''}${problem.invoice.id}` : '', problem.subscription ? `subscription ${problem.subscription.id}` : ''].filter(Boolean).join(', ');
      const when = [problem.failed_at ? `failed ${day(problem.failed_at)}` : '', problem.attempts ? `${problem.attempts} attempt${problem.attempts === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
      const facts = parts(ids, when);
      return `- ${problem.what}${facts ? ` (${facts})` : ''} ${problem.reason}${due} ${problem.retry_note} ${problem.what_to_do}${links ? ` ${links}` : ''}${staff ? ` ${staff}` : ''}`;
    });
    const head = `${output.problems.length} payment problem${output.problems.length === 1 ? '' : 's'}:`;
    return [head, ...lines, ...(output.portal_note ? [output.portal_note] : [])].join('\n');
  },
});
