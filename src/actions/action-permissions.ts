/**
 * The Stripe restricted-key permission each action writes with, and the tools it will bring:
 * doctor shows which an enabled action still lacks, and the action tools are listed only when the
 * key has it. Reads the tools share with the read-only tools (charges, invoices, subscriptions)
 * are checked with those tools.
 */
import type { ActionKind } from './policy.js';

export const ACTION_PERMISSIONS: Readonly<Record<ActionKind, readonly string[]>> = {
  refund: ['rak_refund_write'],
  credit: ['rak_customer_balance_transaction_write'],
  pause: ['rak_subscription_write'],
  plan_change: ['rak_subscription_write'],
  retry_payment: ['rak_invoice_write'],
};

/** The tools an enabled action adds (issues 22 and 23). */
export const ACTION_TOOLS: Readonly<Record<ActionKind, readonly string[]>> = {
  refund: ['request_refund'],
  credit: ['request_credit'],
  pause: ['pause_subscription', 'resume_subscription'],
  plan_change: ['request_plan_change'],
  retry_payment: ['retry_payment'],
};
