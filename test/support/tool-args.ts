import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { ALL_TOOLS } from '../../src/tools/registry.js';

/**
 * Arguments that make each tool do its whole job for the demo customer alice: her paid invoice
 * for resend_invoice, a valid code for apply_coupon. Staff also name her by email; customers
 * never do (the server chooses).
 */
export function sampleArgs(tool: string, options: { staff?: boolean } = {}): Record<string, unknown> {
  const customerTool = ALL_TOOLS.find((candidate) => candidate.name === tool)?.audience === 'customer';
  const who = options.staff && customerTool ? { email: DEMO.emails.alice } : {};
  if (tool === 'resend_invoice') return { ...who, invoice: DEMO.invoices.alicePaid[0] };
  if (tool === 'apply_coupon') return { ...who, code: 'WELCOME20' };
  // alice is on Pro monthly: Team monthly is on offer in the demo's portal configuration.
  if (tool === 'preview_plan_change') return { ...who, price: DEMO.prices.teamMonthly };
  // The action tools (listed only with an actions policy): a request each, waiting for the person.
  if (tool === 'request_refund') return { ...who, payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' };
  if (tool === 'request_credit') return { ...who, amount: 500, reason: 'outage' };
  if (tool === 'retry_payment') return { ...who, invoice: null };
  if (tool === 'pause_subscription') return { ...who, days: 10 };
  if (tool === 'request_plan_change') return { ...who, price: DEMO.prices.teamMonthly };
  return who;
}
