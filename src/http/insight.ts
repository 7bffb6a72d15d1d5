/**
 * What a support agent sees about one email: the Stripe records that carry it, and the billing
 * overview of the chosen one, loaded by the same function as the get_customer_overview tool.
 * Shared by the /panel page and GET /v1/insight (staff keys only).
 */
import type { Context, Handler } from 'hono';
import { z } from 'zod';
import { callEntry } from '../audit/call-entry.js';
import type { AuditEntry } from '../audit/record.js';
import { ASSISTANT_SURFACES, findDisclosures, type Disclosures } from '../audit/disclosures.js';
import type { DataCategory } from '../audit/record.js';
import type { ToolError, ToolErrorKind } from '../errors.js';
import { isoDate } from '../format/dates.js';
import { answerWork } from '../stripe/caller-context.js';
import { mapStripeError } from '../stripe/errors.js';
import { PERMISSIONS } from '../stripe/permission-probes.js';
import type { CustomerTarget, ToolRuntime } from '../tools/lib/context.js';
import { loadCustomerOverview, type CustomerOverview, type OverviewSection } from '../tools/lib/customer-overview.js';
import { createToolContext } from '../tools/lib/customer-target.js';
import { AUDIT_UNAVAILABLE_MESSAGE } from '../tools/lib/run-tool.js';
import { isPlausibleEmail, normalizeEmail, staffPrincipal } from '../verify/principal.js';
import { conversationKey, type HttpCaller } from '../verify/request-principal.js';

/** The query both surfaces accept; `conversation` + `host` name a chat the way a host key does. */
export const insightQuerySchema = z
  .object({
    email: z.string().trim().max(254).refine(isPlausibleEmail, 'email must be an email address'),
    customer: z.string().regex(/^cus_[A-Za-z0-9]+$/, 'customer looks like cus_…').optional(),
    conversation: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'conversation is 1–128 letters, digits, ".", "_", ":" or "-"').optional(),
    host: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'host is the HOST_KEYS name of the chatbot host').optional(),
  })
  .refine((query) => (query.conversation === undefined) === (query.host === undefined), 'conversation and host go together');

export type InsightQuery = z.output<typeof insightQuerySchema>;

export interface CustomerRecordSummary {
  id: string;
  name: string | undefined;
  email: string | undefined;
  created: string;
}

export interface ConversationCheck {
  id: string;
  host: string;
  /** True only when that chat holds a live verification of exactly this email. */
  email_verified: boolean;
  note: string;
}

interface InsightBase {
  mode: 'test' | 'live';
  email: string;
}

export type Insight =
  | (InsightBase & {
      status: 'found';
      records: CustomerRecordSummary[];
      selected: string;
      overview: CustomerOverview;
      /** Parts that could not be loaded (a missing permission, a Stripe error), each with what to do; the rest is complete. */
      unavailable: SectionNotice[];
      conversation?: ConversationCheck | undefined;
      /** The assistant's last 20 records about this email (absent when the audit trail is off). */
      assistant_disclosures?: Disclosures | undefined;
      /** Present while too many wrong codes keep this email from verifying by code (identity tokens still work). */
      code_verification_lock?: CodeVerificationLock | undefined;
    })
  | (InsightBase & { status: 'not_found'; message: string })
  | (InsightBase & { status: 'error'; kind: ToolErrorKind; message: string });

export interface CodeVerificationLock {
  until: string;
  note: string;
}

/** Whether wrong email codes have locked this address's code verification: staff see it and when it ends. */
async function codeVerificationLock(runtime: ToolRuntime, email: string): Promise<CodeVerificationLock | undefined> {
  if (runtime.verification?.mode !== 'code') return undefined;
  const lock = await runtime.verification.codes.lockOf(email).catch(() => undefined);
  return lock && { until: lock.until, note: 'Too many wrong email codes were entered for this address: the chat cannot verify it by code until then. Signing in on the website (identity token) still works.' };
}

export interface SectionNotice {
  section: OverviewSection;
  message: string;
}

/** Which part of the picture each restricted-key permission holds (its Dashboard name comes from the probes). */
const PERMISSION_PARTS: Record<string, string> = {
  rak_customer_read: 'Customer details',
  rak_subscription_read: 'Subscriptions',
  rak_invoice_read: 'Invoices',
  rak_charge_read: 'Payment history (failed payments and refunds)',
  rak_payment_method_read: 'The payment method',
  rak_customer_balance_transaction_read: 'The credit balance',
  rak_price_read: 'Plan names',
  rak_product_read: 'Plan names',
  rak_coupon_read: 'Discounts',
  rak_billing_portal_session_write: 'Billing-portal links',
};

/** What each overview section shows a support agent, as the audit trail records it. */
const SECTION_CATEGORIES: Record<OverviewSection, DataCategory[]> = {
  subscriptions: ['subscription', 'subscription.price', 'discount'],
  invoices: ['invoices'],
  payment_method: ['payment_method.brand', 'payment_method.last4', 'payment_method.expiry'],
  payments: ['payments', 'refunds'],
  upcoming: ['upcoming_invoice'],
  balance: ['credit_balance'],
};

/** One record per look-up: the agent saw the records list and every section that loaded. */
function insightEntry(runtime: ToolRuntime, surface: 'panel' | 'insight', staffName: string, insight: Insight, customerIds: string[], failure?: string): AuditEntry {
  const failed = new Set(insight.status === 'found' ? insight.unavailable.map((notice) => notice.section) : []);
  const shown = (Object.keys(SECTION_CATEGORIES) as OverviewSection[]).filter((section) => !failed.has(section)).flatMap((section) => SECTION_CATEGORIES[section]);
  return callEntry({
    surface,
    caller: `staff:${staffName}`,
    conversation: undefined,
    principal: staffPrincipal(staffName),
    tool: 'customer_insight',
    failure: failure ?? (insight.status === 'found' ? undefined : insight.status === 'not_found' ? 'not_found' : insight.kind),
    disclosed: ['customer_record', ...shown],
    write: undefined,
    email: insight.email,
    customerIds,
    tenantId: runtime.tenantId,
  });
}

export const STRIPE_UNAVAILABLE_MESSAGE = 'Stripe is unavailable, try again.';
export const NO_CUSTOMER_MESSAGE = 'No Stripe customer with this email.';

/**
 * What an agent may read about a failure: our own words per error kind, naming the missing
 * permission from a fixed table (Stripe's text itself never reaches the page).
 */
export function agentMessage(error: ToolError): string {
  switch (error.kind) {
    case 'temporarily_unavailable':
      return error.logDetail?.audit === 'unavailable' ? error.message : STRIPE_UNAVAILABLE_MESSAGE;
    case 'not_available': {
      const permission = String(error.logDetail?.permission ?? '');
      const part = PERMISSION_PARTS[permission];
      const label = PERMISSIONS[permission]?.label;
      return part && label
        ? `${part} is unavailable: the Stripe key lacks the “${label}” permission. The merchant must grant it to the restricted key.`
        : 'Part of this billing information is unavailable: the Stripe key lacks a permission. The merchant must grant it to the restricted key.';
    }
    case 'configuration':
      return error.message.includes('portal')
        ? 'The billing portal is not set up in Stripe, so no link can be made. The merchant must configure it.'
        : 'Stripe does not accept the current key. The merchant must check STRIPE_API_KEY.';
    case 'input':
    case 'not_found':
      return error.message;
    default:
      return 'Something went wrong loading this customer. Try again.';
  }
}

function summarizeRecord(customer: CustomerTarget['customers'][number]): CustomerRecordSummary {
  return { id: customer.id, name: customer.name ?? undefined, email: customer.email ?? undefined, created: isoDate(customer.created) };
}

async function checkConversation(runtime: ToolRuntime, query: InsightQuery): Promise<ConversationCheck | undefined> {
  if (query.conversation === undefined || query.host === undefined) return undefined;
  const host: HttpCaller = { kind: 'host', name: query.host };
  const base = { id: query.conversation, host: query.host };
  const grants = runtime.verification?.grants;
  if (!grants) return { ...base, email_verified: false, note: 'Email verification is not enabled on this server.' };
  const verified = await grants.isVerified(conversationKey(host, query.conversation)!, query.email);
  return { ...base, email_verified: verified, note: verified ? 'Email verified in this conversation.' : 'Email not verified in this conversation.' };
}

/**
 * One email's insight for a staff member: find the records (search + list, exact match), pick
 * the requested one (else the newest), then one parallel round through loadCustomerOverview.
 */
export async function loadInsight(runtime: ToolRuntime, staffName: string, query: InsightQuery, surface: 'panel' | 'insight'): Promise<Insight> {
  const audit = runtime.audit;
  const paused: Insight = { mode: runtime.key.mode, email: normalizeEmail(query.email), status: 'error', kind: 'temporarily_unavailable', message: AUDIT_UNAVAILABLE_MESSAGE };
  // AUDIT_REQUIRED: an agent sees a customer only once the record of it is committed, as a tool call.
  if (audit?.required && !audit.writable) {
    audit.record(insightEntry(runtime, surface, staffName, paused, [], 'audit_unavailable'));
    return paused;
  }
  let customerIds: string[] = [];
  const insight = await lookUpInsight(runtime, staffName, query, (ids) => (customerIds = ids));
  const entry = insightEntry(runtime, surface, staffName, insight, customerIds);
  if (!audit?.required) {
    audit?.record(entry);
    return insight;
  }
  // A record that cannot be committed is kept by the trail as a refusal: nothing is shown.
  return audit.commit(entry).then(
    () => insight,
    () => paused,
  );
}

async function lookUpInsight(runtime: ToolRuntime, staffName: string, query: InsightQuery, found: (customerIds: string[]) => void): Promise<Insight> {
  const base: InsightBase = { mode: runtime.key.mode, email: normalizeEmail(query.email) };
  // Read alongside Stripe; findDisclosures answers "unavailable" rather than throwing.
  const disclosuresLoading = runtime.audit ? findDisclosures(runtime.audit, { email: base.email, surfaces: ASSISTANT_SURFACES, limit: 20, ...(runtime.tenantId ? { tenant_id: runtime.tenantId } : {}) }, runtime.log) : undefined;
  try {
    // The staff member's Stripe requests are charged to their share of the request budget.
    const work = answerWork(`staff:${staffName}`);
    const [customers, conversation, codeLock] = await Promise.all([
      runtime.reads.forWork(work).customersByEmail(query.email),
      checkConversation(runtime, query),
      codeVerificationLock(runtime, base.email),
    ]);
    if (customers.length === 0) return { ...base, status: 'not_found', message: NO_CUSTOMER_MESSAGE };
    found(customers.map((customer) => customer.id));
    const chosen = customers.find((customer) => customer.id === query.customer) ?? customers[0]!;
    const target: CustomerTarget = { email: base.email, customers: [chosen], unverified: false };
    const ctx = createToolContext(runtime, staffPrincipal(staffName), { customer_id: chosen.id }, undefined, undefined, undefined, work);
    const { unavailable, ...overview } = await loadCustomerOverview(ctx, target, { partial: true });
    for (const failure of unavailable) runtime.log.warn({ section: failure.section, outcome: failure.error.kind, detail: failure.error.logDetail, staff: staffName }, 'insight section unavailable');
    const notices = unavailable.map((failure) => ({ section: failure.section, message: agentMessage(failure.error) }));
    const disclosures = await disclosuresLoading;
    return {
      ...base,
      status: 'found',
      records: customers.map(summarizeRecord),
      selected: chosen.id,
      overview,
      unavailable: notices,
      conversation,
      ...(disclosures ? { assistant_disclosures: disclosures } : {}),
      ...(codeLock ? { code_verification_lock: codeLock } : {}),
    };
  } catch (caught) {
    const error = mapStripeError(caught, 'load customer insight');
    runtime.log.warn({ outcome: error.kind, detail: error.logDetail, staff: staffName }, 'insight failed');
    return { ...base, status: 'error', kind: error.kind, message: agentMessage(error) };
  }
}

const STATUS_OF_KIND: Partial<Record<ToolErrorKind, 400 | 404 | 502 | 503>> = { input: 400, not_found: 404, temporarily_unavailable: 503 };

/** GET /v1/insight?email=…: the panel's data as JSON for other helpdesks (mounted behind the staff-only guard). */
export function insightRoute(runtime: ToolRuntime): Handler<{ Variables: { caller: HttpCaller } }> {
  return async (c: Context<{ Variables: { caller: HttpCaller } }>) => {
    const caller = c.get('caller');
    const parsed = insightQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: 'bad_query', message: parsed.error.issues.map((issue) => issue.message).join('; ') }, 400);
    const insight = await loadInsight(runtime, caller.name, parsed.data, 'insight');
    if (insight.status === 'found') return c.json(insight);
    if (insight.status === 'not_found') return c.json({ error: 'not_found', ...insight }, 404);
    return c.json({ error: insight.kind, ...insight }, STATUS_OF_KIND[insight.kind] ?? 502);
  };
}
