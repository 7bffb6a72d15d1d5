import type { ActionsEngine } from '../actions/engine.js';
import { ACTION_KINDS } from '../actions/policy.js';
import { ConfigurationError } from '../errors.js';
import type { ToolRuntime } from './lib/context.js';
import type { AnyToolDefinition } from './lib/define-tool.js';
import getSubscriptionStatus from './get-subscription-status.js';
import getVerificationStatus from './get-verification-status.js';
import verifyEmailConfirm from './verify-email-confirm.js';
import verifyEmailStart from './verify-email-start.js';
import getInvoiceHistory from './get-invoice-history.js';
import getPaymentHistory from './get-payment-history.js';
import getBillingInfo from './get-billing-info.js';
import getUpcomingInvoice from './get-upcoming-invoice.js';
import getCreditBalance from './get-credit-balance.js';
import getAvailablePlans from './get-available-plans.js';
import getCustomerOverview from './get-customer-overview.js';
import getBillingPortalLink from './get-billing-portal-link.js';
import getPaymentProblem from './get-payment-problem.js';
import cancelSubscription from './cancel-subscription.js';
import previewPlanChange from './preview-plan-change.js';
import resendInvoice from './resend-invoice.js';
import applyCoupon from './apply-coupon.js';
import requestRefund from './request-refund.js';
import requestCredit from './request-credit.js';
import pauseSubscription from './pause-subscription.js';
import resumeSubscription from './resume-subscription.js';
import requestPlanChange from './request-plan-change.js';
import getRequestStatus from './get-request-status.js';
import retryPayment from './retry-payment.js';
import cardPortalLink from './card-portal-link.js';
import cardConfirmRequest from './card-confirm-request.js';
import cardCancelRequest from './card-cancel-request.js';

/** Every tool, in the order clients list them. Adding a tool touches its file and this list. */
export const ALL_TOOLS: readonly AnyToolDefinition[] = [
  verifyEmailStart,
  verifyEmailConfirm,
  getVerificationStatus,
  getSubscriptionStatus,
  getInvoiceHistory,
  getPaymentHistory,
  getBillingInfo,
  getUpcomingInvoice,
  getCreditBalance,
  getAvailablePlans,
  getCustomerOverview,
  getPaymentProblem,
  getBillingPortalLink,
  cancelSubscription,
  previewPlanChange,
  resendInvoice,
  applyCoupon,
  requestRefund,
  requestCredit,
  pauseSubscription,
  resumeSubscription,
  requestPlanChange,
  retryPayment,
  getRequestStatus,
];

/**
 * The billing card's buttons (MCP Apps, `_meta.ui.visibility: ["app"]`): not in ALL_TOOLS, so
 * no other surface (/v1/tools, TOOLS, docs) lists them; createMcpServer offers them only to a
 * client that declared the Apps extension.
 */
export const APP_TOOLS: readonly AnyToolDefinition[] = [cardPortalLink, cardConfirmRequest, cardCancelRequest];

/**
 * The card's buttons that go with the selected tools in this mode: the portal button with the
 * portal link tool; Confirm and Cancel in customer mode only (a staff call is its own confirmation).
 */
export function appToolsFor(selected: readonly AnyToolDefinition[], mode: 'customer' | 'staff'): AnyToolDefinition[] {
  const names = new Set(selected.map((tool) => tool.name));
  if (![...names].some((name) => ALL_TOOLS.find((tool) => tool.name === name)?.card)) return [];
  return APP_TOOLS.filter((tool) => (tool === cardPortalLink ? names.has('get_billing_portal_link') : mode === 'customer'));
}

/** The billing tools proper: everything but the email-code verification tools. */
export const BILLING_TOOLS: readonly AnyToolDefinition[] = ALL_TOOLS.filter((tool) => tool.audience !== 'verification');

export interface ToolSelection {
  /** TOOLS: when non-empty, only these. */
  allowlist: readonly string[];
  /** WRITE_TOOLS: write tools stay off unless named here (or `all`). */
  writeTools: readonly string[];
}

/**
 * Fail-closed selection: the default is every read tool plus the portal tools; write tools
 * need WRITE_TOOLS even when TOOLS names them. Unknown names stop start-up.
 */
export function selectTools(selection: ToolSelection, tools: readonly AnyToolDefinition[] = ALL_TOOLS): AnyToolDefinition[] {
  const known = new Set(tools.map((tool) => tool.name));
  for (const [setting, names] of [['TOOLS', selection.allowlist], ['WRITE_TOOLS', selection.writeTools]] as const) {
    const unknown = names.filter((name) => !known.has(name) && !(setting === 'WRITE_TOOLS' && name === 'all'));
    if (unknown.length > 0) {
      throw new ConfigurationError(`${setting} names unknown tools: ${unknown.join(', ')}. Known tools: ${[...known].join(', ')}.`);
    }
  }
  const allWrites = selection.writeTools.includes('all');
  return tools.filter((tool) => {
    if (selection.allowlist.length > 0 && !selection.allowlist.includes(tool.name)) return false;
    if (tool.write) return allWrites || selection.writeTools.includes(tool.name);
    return true;
  });
}

/**
 * What one server offers in its mode: the email-code tools only in customer mode and only when
 * verification is set up; staff choose customers directly.
 */
export function toolsForMode(tools: readonly AnyToolDefinition[], mode: 'customer' | 'staff', verificationEnabled: boolean, actions?: Pick<ActionsEngine, 'enabled'>): AnyToolDefinition[] {
  return tools.filter((tool) => offeredInMode(tool, mode, verificationEnabled, actions));
}

/** Whether a server of this mode offers this tool now (`toolsForMode`, for one tool). */
export function offeredInMode(tool: AnyToolDefinition, mode: 'customer' | 'staff', verificationEnabled: boolean, actions?: Pick<ActionsEngine, 'enabled'>): boolean {
  return (
    (tool.audience !== 'verification' || (mode === 'customer' && verificationEnabled)) &&
    // Read-only is the default: an action's tools exist only where the merchant's policy turns it on.
    (tool.action === undefined || (tool.action === 'any' ? ACTION_KINDS.some((kind) => actions?.enabled(kind) === true) : actions?.enabled(tool.action) === true))
  );
}

/** Tools by name, the first of a name winning, as `find` over the list would. */
export function firstOfEachName(tools: readonly AnyToolDefinition[]): Map<string, AnyToolDefinition> {
  const named = new Map<string, AnyToolDefinition>();
  for (const tool of tools) if (!named.has(tool.name)) named.set(tool.name, tool);
  return named;
}

/** Each tool list's tools by name (a list never changes). */
const byName = new WeakMap<readonly AnyToolDefinition[], Map<string, AnyToolDefinition>>();

/** The tool of this name if `listedTools` has it now, without filtering the whole list. */
export function listedToolNamed(tools: readonly AnyToolDefinition[], mode: 'customer' | 'staff', runtime: Pick<ToolRuntime, 'verification' | 'availability' | 'actions'>, name: string): AnyToolDefinition | undefined {
  let named = byName.get(tools);
  if (!named) byName.set(tools, (named = firstOfEachName(tools)));
  const tool = named.get(name);
  return tool && offeredInMode(tool, mode, runtime.verification !== undefined, runtime.actions) && (runtime.availability?.isListed(tool) ?? true) ? tool : undefined;
}

/** What is listed now: the mode's tools less those the Stripe key or account rule out. */
export function listedTools(tools: readonly AnyToolDefinition[], mode: 'customer' | 'staff', runtime: Pick<ToolRuntime, 'verification' | 'availability' | 'actions'>): AnyToolDefinition[] {
  return toolsForMode(tools, mode, runtime.verification !== undefined, runtime.actions).filter((tool) => runtime.availability?.isListed(tool) ?? true);
}
