/**
 * The actions engine: the one place a refund, credit, pause or resume goes from a model's
 * proposal to Stripe. The model proposes (an action tool calls `propose`), the customer confirms
 * through a channel the model cannot reach (`confirm` with the secret: the email page, the host's
 * button, MCP `_meta`/elicitation), the merchant's policy decides (`decide`, asked again at the
 * confirmation), staff approve above it (`approve`/`deny`), Stripe executes exactly once
 * (`executeOnce`), and each step is an audit record (action-audit.ts).
 *
 * One engine per Stripe account (per tenant in platform mode). Requests live in the trail's
 * database, so every process sharing it sees the same requests; the timer (`start`) expires
 * unconfirmed requests and resumes executions that went quiet, from whichever process runs it.
 */
import type Stripe from 'stripe';
import type { AuditTrail } from '../audit/audit-trail.js';
import { storable } from '../audit/call-entry.js';
import type { AuditSurface } from '../audit/record.js';
import { ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import { isCustomerWithEmail, isUnprovenCustomer, type Principal } from '../verify/principal.js';
import { ACTION_PERMISSIONS } from './action-permissions.js';
import { actionEntry, type ActionStep, type StepFacts } from './action-audit.js';
import { confirmationToken } from './confirmation-secret.js';
import { COUNT_WINDOW_DAYS, decide, type ActionRequest as PolicyCheck, type CustomerHistory, type Decision } from './decide.js';
import { DefiniteFailure, executeOnce, MISSING_PERMISSION_REASON, resumeQuietExecutions, type ExecuteOptions, type ExecutionResult, type StripeCall } from './execute-request.js';
import type { ActionsPolicy } from './policy.js';
import type { ActionRequest, ConfirmChannel, ExecutionClaim, RequestKind, RequestStore, Route } from './requests.js';

/** What the person (never the model) is handed to confirm a request. */
export interface ConfirmationHandoff {
  request_id: string;
  /** `<request id>.<secret>`: the whole proof of the person's click. */
  token: string;
  expires_at: string;
  /** The email page (`PUBLIC_URL/confirm/{token}`), when PUBLIC_URL is set. */
  url?: string;
}

export interface RequestPreview extends Record<string, unknown> {
  summary: string;
  when: string;
  amount?: { amount: number; currency: string; formatted: string };
  subject?: string;
}

/** What an action tool proposes, after it checked ownership and what is left. */
export interface Proposal {
  kind: RequestKind;
  customer_id: string;
  email: string | null;
  /** What the policy checks; absent for `resume` (ending a pause is never limited). */
  check?: PolicyCheck;
  /** What Stripe will be asked (see stripeCallFor). */
  params: Record<string, unknown>;
  /**
   * What the person is shown, everywhere the request appears (tool answer, email, confirmation
   * page, panel, webhook): `summary` (what will happen, in plain words: "Refund $25.00 of your
   * $99.00 payment of 2 Nov 2026 to the Visa card ending 4242"), `when` (when the money arrives or
   * the subscription resumes), optional `amount` (money()) and `subject` (the payment or
   * subscription, as the customer knows it). Never a secret; merchant-set text quoted.
   */
  preview: RequestPreview;
}

export interface Proposer {
  principal: Principal;
  /** `host:acme-bot`, `staff:alice`, `stdio`. */
  caller: string | undefined;
  conversation: string | undefined;
  surface: AuditSurface;
}

export interface Proposed {
  request: ActionRequest;
  /** Customer mode: for the person only (the host's `confirmation`, MCP `_meta`, elicitation). */
  confirmation?: ConfirmationHandoff;
  /** Whether the confirmation link was emailed to the verified address. */
  emailed: boolean;
  /** Staff mode within auto_approve: what Stripe answered. */
  execution?: ExecutionResult;
  /** The policy's reasons for a staff approval (empty within auto_approve). */
  approvalBecause: string[];
}

export type ConfirmOutcome =
  | { outcome: 'confirmed'; request: ActionRequest; execution?: ExecutionResult }
  | { outcome: 'invalid' }
  | { outcome: 'expired' | 'already_decided'; request: ActionRequest };

export type StaffDecision =
  | { outcome: 'applied'; request: ActionRequest; execution?: ExecutionResult }
  | { outcome: 'not_found' }
  | { outcome: 'own_request' | 'not_allowed'; request: ActionRequest };

export interface ConfirmationMail {
  to: string;
  request: ActionRequest;
  url: string;
  expiresInMinutes: number;
}

export interface ActionsEngineOptions {
  requests: RequestStore;
  /** Asked on every decision: a tenant's policy can change while requests wait. */
  policy: () => ActionsPolicy | undefined;
  stripe: Stripe;
  /** Drops the customer's cached answers once Stripe changed something. */
  invalidateCustomer: (customerId: string) => Promise<void>;
  log: Logger;
  tenantId: string | null;
  audit?: AuditTrail | undefined;
  /** PUBLIC_URL: where the email confirmation page lives; without it no link is made. */
  publicUrl?: string | undefined;
  /** Sends the confirmation link to the verified email (SMTP_URL or the demo outbox). */
  sendConfirmation?: ((mail: ConfirmationMail) => Promise<void>) | undefined;
  /** Told of each request that now waits for a staff approval (APPROVAL_WEBHOOK_URL). */
  onAwaitingApproval?: ((request: ActionRequest) => void) | undefined;
  /** Tests: retry delays and sleep. */
  execute?: ExecuteOptions | undefined;
}

const UNPROVEN_NEEDS_EMAIL =
  "This needs the customer to confirm it from their email, and no confirmation email can be sent here: nothing was requested. The merchant's support team can help.";

const NOT_ENABLED = "This is not something the assistant can do here: this merchant's policy does not allow it. The merchant's support team can help.";

/** How often the timer expires stale confirmations and resumes quiet executions. */
export const SWEEP_EVERY_MS = 30_000;

export class ActionsEngine {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly options: ActionsEngineOptions) {}

  /** The engine as one tool call uses it: its Stripe requests are that call's (see stripeFor); a cheap view of this one. */
  withStripe(stripe: Stripe): ActionsEngine {
    return stripe === this.options.stripe ? this : (Object.create(this, { options: { value: { ...this.options, stripe } } }) as ActionsEngine);
  }

  get requests(): RequestStore {
    return this.options.requests;
  }

  get tenantId(): string | null {
    return this.options.tenantId;
  }

  /** The policy in force now (a tenant's may change while the server runs). */
  policy(): ActionsPolicy | undefined {
    return this.options.policy();
  }

  /** Whether the policy turns this action on (resume: whenever pause is). */
  enabled(kind: RequestKind): boolean {
    const policy = this.options.policy();
    return kind === 'resume' ? policy?.pause?.enabled === true : policy?.[kind]?.enabled === true;
  }

  /** This customer's earlier requests of each counted kind, from the database. */
  private async history(customerId: string, excludeId?: string): Promise<CustomerHistory> {
    const count = (kind: keyof typeof COUNT_WINDOW_DAYS) =>
      this.options.requests.countForCustomer({ tenantId: this.options.tenantId, customerId, kind, withinDays: COUNT_WINDOW_DAYS[kind], ...(excludeId ? { excludeId } : {}) });
    const [refund, pause, plan_change, retry_payment] = await Promise.all([count('refund'), count('pause'), count('plan_change'), count('retry_payment')]);
    return { refund, pause, plan_change, retry_payment };
  }

  /** `replacing`: unconfirmed requests this one replaces, left out of the counts. */
  private async decision(check: PolicyCheck | undefined, customerId: string, excludeId?: string, replacing = 0): Promise<Decision> {
    if (!check) return { outcome: 'auto_approve' };
    const history = await this.history(customerId, excludeId);
    const counted = check.kind in history ? { ...history, [check.kind]: Math.max(0, history[check.kind as keyof CustomerHistory] - replacing) } : history;
    return decide(this.options.policy(), check, counted, this.options.requests.now());
  }

  private record(step: ActionStep, request: ActionRequest, facts: StepFacts): void {
    this.options.audit?.record(actionEntry(step, request, facts));
  }

  /**
   * The model's proposal. The policy refuses (a ToolError of kind `refused` whose message the
   * model relays; nothing is created) or lets it through: a customer's request waits for their
   * confirmation; a staff key's own call is its confirmation, so it executes (within
   * auto_approve) or waits for another staff member's approval.
   */
  async propose(proposal: Proposal, who: Proposer): Promise<Proposed> {
    if (!this.enabled(proposal.kind)) throw new ToolError('refused', NOT_ENABLED);
    const replaced = who.principal.kind === 'customer' ? await this.replacedBy(proposal) : [];
    const decision = await this.decision(proposal.check, proposal.customer_id, undefined, replaced.length);
    if (decision.outcome === 'refused') throw new ToolError('refused', decision.reason);
    const approvalBecause = decision.outcome === 'needs_approval' ? decision.because.map((reason) => reason.message) : [];
    const by = who.caller ?? (who.principal.kind === 'staff' ? `staff:${who.principal.name}` : 'stdio');
    const base = {
      tenant_id: this.options.tenantId,
      kind: proposal.kind,
      customer_id: proposal.customer_id,
      email: proposal.email,
      created_by: by,
      conversation: who.conversation,
      params: proposal.params,
      preview: { ...proposal.preview, ...(approvalBecause.length > 0 ? { approval_because: approvalBecause } : {}) },
    };

    if (who.principal.kind === 'staff') {
      const route: Route = decision.outcome === 'auto_approve' ? 'execute' : 'approval';
      const created = await this.options.requests.createByStaff({ ...base, principal: 'staff' }, route);
      this.record('requested', created.request, { by, surface: who.surface });
      this.record('confirmed', created.request, { by, surface: who.surface, channel: 'staff' });
      if (!created.claim) {
        this.options.onAwaitingApproval?.(created.request);
        return { request: created.request, emailed: false, approvalBecause };
      }
      const execution = await this.execute(created.claim);
      return { request: execution.request, emailed: false, execution, approvalBecause };
    }

    if (who.principal.kind !== 'customer') throw new ToolError('not_verified', 'Only a verified customer can ask for this.');
    // An email matched without proof (VERIFY_MODE=trust-email) is whatever the visitor typed: only
    // the emailed link, which proves the mailbox, may confirm, never a button in the same chat.
    const emailOnly = isUnprovenCustomer(who.principal);
    if (emailOnly && !(this.options.publicUrl && this.options.sendConfirmation && proposal.email)) throw new ToolError('refused', UNPROVEN_NEEDS_EMAIL);
    await this.supersede(replaced);
    const { request, secret } = await this.options.requests.create({ ...base, principal: 'customer' });
    this.record('requested', request, { by, surface: who.surface });
    const token = confirmationToken(request.id, secret);
    const url = this.options.publicUrl ? `${this.options.publicUrl.replace(/\/$/, '')}/confirm/${token}` : undefined;
    const confirmation: ConfirmationHandoff = { request_id: request.id, token, expires_at: request.confirm_expires_at ?? '', ...(url ? { url } : {}) };
    let emailed = false;
    if (url && request.email && this.options.sendConfirmation) {
      try {
        await this.options.sendConfirmation({ to: request.email, request, url, expiresInMinutes: 15 });
        emailed = true;
      } catch (error) {
        // The request stands: the host's button or MCP still confirm it. The mailer logged its reason.
        this.options.log.warn({ request: request.id, err: error instanceof Error ? error.name : 'error' }, 'action confirmation email not sent');
      }
    }
    if (emailOnly && !emailed) {
      // The one channel that could confirm it failed: withdraw it rather than leave it unconfirmable.
      const withdrawn = await this.options.requests.cancel(request.id, 'system');
      if (withdrawn.outcome === 'applied') this.record('canceled', withdrawn.request, { by: 'system', note: 'confirmation email not sent' });
      throw new ToolError('refused', UNPROVEN_NEEDS_EMAIL);
    }
    return { request, ...(emailOnly ? {} : { confirmation }), emailed, approvalBecause };
  }

  /**
   * A model that asks again (a retry, a changed amount) replaces its unconfirmed request for the
   * same payment or subscription: the older one is canceled, so only the newest can be confirmed
   * and an abandoned one does not count against the customer's limits.
   */
  private async replacedBy(proposal: Proposal): Promise<ActionRequest[]> {
    const subject = subjectOf(proposal.params);
    if (subject === undefined) return [];
    const recent = await this.options.requests.listForCustomer(this.options.tenantId, proposal.customer_id);
    return recent.filter((earlier) => earlier.state === 'awaiting_confirmation' && earlier.kind === proposal.kind && subjectOf(earlier.params) === subject);
  }

  private async supersede(replaced: readonly ActionRequest[]): Promise<void> {
    for (const earlier of replaced) {
      const result = await this.options.requests.cancel(earlier.id, 'superseded');
      if (result.outcome === 'applied') this.record('canceled', result.request, { by: 'system', note: 'replaced by a newer request' });
    }
  }

  /**
   * The person's confirmation, with the secret from their channel. `owner` (the host's button,
   * MCP): the verified customer asking must be the request's, else the same `invalid` as a wrong
   * secret. The policy is asked again: a request it would now refuse, or one past auto_approve,
   * waits for staff.
   */
  async confirm(id: string, secret: string, channel: Exclude<ConfirmChannel, 'staff'>, options: { owner?: Principal; by?: string; surface?: AuditSurface } = {}): Promise<ConfirmOutcome> {
    if (options.owner) {
      // An unproven email's requests are confirmed by the emailed link alone (propose()).
      if (isUnprovenCustomer(options.owner)) return { outcome: 'invalid' };
      const request = await this.options.requests.get(id);
      if (!request || !this.owns(options.owner, request)) return { outcome: 'invalid' };
    }
    const result = await this.options.requests.confirm(id, secret, {
      channel,
      route: async (request) => {
        const decision = await this.decision(checkOf(request), request.customer_id, request.id);
        return decision.outcome === 'auto_approve' ? 'execute' : 'approval';
      },
    });
    if (result.outcome === 'invalid') return result;
    const by = options.by ?? 'customer';
    if (result.outcome === 'expired') {
      if (result.request.state === 'expired') this.record('expired', result.request, { by: 'system' });
      return result;
    }
    if (result.outcome === 'already_decided') return result;
    this.record('confirmed', result.request, { by, surface: options.surface ?? null, channel });
    if (!result.claim) {
      this.options.onAwaitingApproval?.(result.request);
      return { outcome: 'confirmed', request: result.request };
    }
    const execution = await this.execute(result.claim);
    return { outcome: 'confirmed', request: execution.request, execution };
  }

  /** The Cancel button on the email page or the card (the secret proves the click). */
  async cancelWithSecret(id: string, secret: string, channel: 'email' | 'card' = 'email'): Promise<ConfirmOutcome | { outcome: 'canceled'; request: ActionRequest }> {
    const result = await this.options.requests.cancelWithSecret(id, secret);
    if (result.outcome === 'canceled') this.record('canceled', result.request, { by: 'customer', channel });
    // As confirm(): a link past its 15 minutes expires on the click, recorded as the sweep would.
    if (result.outcome === 'expired' && result.request.state === 'expired') this.record('expired', result.request, { by: 'system' });
    return result;
  }

  /** A verified customer's own cancel (their session), or staff's: `by` is who. */
  async cancel(id: string, by: string, owner?: Principal): Promise<StaffDecision> {
    if (owner) {
      const request = await this.options.requests.get(id);
      if (!request || !this.owns(owner, request)) return { outcome: 'not_found' };
    }
    const result = await this.options.requests.cancel(id, by);
    if (result.outcome === 'applied') this.record('canceled', result.request, { by });
    return result;
  }

  /** A staff approval (`staff:<name>` or `panel:<name>` both name the staff key as `staff:<name>`). */
  async approve(id: string, staffKey: string, note?: string, surface?: AuditSurface): Promise<StaffDecision> {
    note = note === undefined ? undefined : storable(note);
    const result = await this.options.requests.approve(id, staffKey, note);
    if (result.outcome !== 'applied') return result;
    this.record('approved', result.request, { by: staffKey, surface: surface ?? null, note: note ?? null });
    if (!result.claim) return result;
    const execution = await this.execute(result.claim);
    return { outcome: 'applied', request: execution.request, execution };
  }

  /** The note as both databases store it (Postgres refuses a NUL; a lone surrogate would not read back): typed by staff, from a form or JSON. */
  async deny(id: string, staffKey: string, note: string, surface?: AuditSurface): Promise<StaffDecision> {
    note = storable(note);
    const result = await this.options.requests.deny(id, staffKey, note);
    if (result.outcome === 'applied') this.record('denied', result.request, { by: staffKey, surface: surface ?? null, note });
    return result;
  }

  /** Whether `principal` is the customer a request belongs to. */
  owns(principal: Principal, request: ActionRequest): boolean {
    if (request.tenant_id !== this.options.tenantId) return false;
    return request.principal === 'customer' && isCustomerWithEmail(principal, request.email);
  }

  /** This merchant's request (platform mode: every tenant's requests share one table, so never another's). */
  async find(id: string): Promise<ActionRequest | undefined> {
    const request = await this.options.requests.get(id);
    return request && request.tenant_id === this.options.tenantId ? request : undefined;
  }

  /**
   * This merchant's request when `caller` (`host:acme-bot`, `staff:alice`; stdio: undefined) may
   * press its Confirm or Cancel for the person (the host's own button, the billing card): a request
   * a host key made is answered through that same host key only, so another chatbot holding the
   * same customer's identity cannot press this one's button. Requests made over stdio or by staff
   * have no host. Whose request it is stays owns()'s question (confirm() and cancel() ask it).
   */
  async findForCaller(id: string, caller: string | undefined): Promise<ActionRequest | undefined> {
    const request = await this.find(id);
    return request && (!request.created_by.startsWith('host:') || request.created_by === caller) ? request : undefined;
  }

  /** Calls Stripe for a claim, once, then records the outcome and drops the customer's cached answers. */
  async execute(claim: ExecutionClaim): Promise<ExecutionResult> {
    const result = await executeOnce(this.options.requests, claim, stripeCallFor(this.options.stripe, claim.request), this.options.execute);
    await this.settle(result);
    return result;
  }

  private async settle(result: ExecutionResult): Promise<void> {
    if (result.outcome === 'done' || result.outcome === 'failed') {
      this.record(result.outcome === 'done' ? 'executed' : 'failed', result.request, { by: 'system' });
      if (result.request.failure_reason === MISSING_PERMISSION_REASON) {
        const kind = result.request.kind === 'resume' ? 'pause' : result.request.kind;
        this.options.log.error({ request: result.request.id, action: result.request.kind, grant: ACTION_PERMISSIONS[kind] }, 'action request failed: the Stripe key lacks the permission to carry it out; grant it in the Dashboard (doctor names it)');
      }
      // Awaited: the customer's next question must not get the answer cached before the refund
      // (with CACHE_URL the drop is a round trip to Redis).
      await this.options.invalidateCustomer(result.request.customer_id).catch(() => undefined);
    } else if (result.outcome === 'unknown') {
      this.options.log.warn({ request: result.request.id, attempts: result.attempts }, 'action request: Stripe’s answer is not known yet; it will be resumed with the same idempotency key');
    }
  }

  /** Expires this merchant's unconfirmed requests and resumes its quiet executions; safe on every process at once. */
  async sweep(): Promise<{ expired: string[]; resumed: ExecutionResult[]; reconcile: ActionRequest[] }> {
    const expired = await this.options.requests.expireStale(this.options.tenantId);
    for (const id of expired) {
      const request = await this.options.requests.get(id);
      if (request) this.record('expired', request, { by: 'system' });
    }
    const { resumed, reconcile } = await resumeQuietExecutions(this.options.requests, this.options.tenantId, (request) => stripeCallFor(this.options.stripe, request), this.options.execute);
    for (const result of resumed) await this.settle(result);
    for (const request of reconcile) this.options.log.error({ request: request.id }, 'action request past Stripe’s idempotency window with no known outcome: reconcile it by hand in the Stripe Dashboard');
    return { expired, resumed, reconcile };
  }

  start(everyMs = SWEEP_EVERY_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.options.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'action requests: sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}

/** What a request is about (the payment, the subscription, the customer's balance), to find a request it replaces. */
function subjectOf(params: Record<string, unknown>): string | undefined {
  for (const key of ['charge', 'payment_intent', 'subscription', 'invoice', 'currency']) if (typeof params[key] === 'string') return `${key}:${params[key] as string}`;
  return undefined;
}

/** The policy's view of a stored request (asked again at the confirmation). */
export function checkOf(request: ActionRequest): PolicyCheck | undefined {
  const p = request.params;
  switch (request.kind) {
    case 'refund':
      return { kind: 'refund', amount: Number(p.amount), currency: String(p.currency), reason: String(p.reason), payment_created: Number(p.payment_created) };
    case 'credit':
      return { kind: 'credit', amount: Number(p.amount), currency: String(p.currency) };
    case 'pause':
      return { kind: 'pause', days: Number(p.days) };
    case 'plan_change':
      return { kind: 'plan_change', amount_due_now: Number(p.amount_due_now), currency: String(p.currency) };
    case 'retry_payment':
      return { kind: 'retry_payment', amount: Number(p.amount), currency: String(p.currency) };
    case 'resume':
      return undefined;
  }
}

export const PRICE_CHANGED_REASON = 'The price changed since the preview; nothing was charged. Ask for a new preview.';

/** The one Stripe call each kind of request makes, with the request's idempotency key. */
export function stripeCallFor(stripe: Stripe, request: ActionRequest): StripeCall {
  const p = request.params;
  const metadata = { sbm_request: request.id };
  switch (request.kind) {
    case 'refund':
      return async (_request, idempotencyKey) => {
        const refund = await stripe.refunds.create(
          {
            ...(typeof p.payment_intent === 'string' ? { payment_intent: p.payment_intent } : { charge: String(p.charge) }),
            amount: Number(p.amount),
            reason: p.reason as Stripe.RefundCreateParams.Reason,
            metadata,
          },
          { idempotencyKey },
        );
        return { stripe_object_id: refund.id };
      };
    case 'credit':
      return async (_request, idempotencyKey) => {
        // A negative amount is a credit: it lowers what the next invoices charge.
        const transaction = await stripe.customers.createBalanceTransaction(
          request.customer_id,
          { amount: -Number(p.amount), currency: String(p.currency), description: typeof p.description === 'string' ? p.description : 'Account credit', metadata },
          { idempotencyKey },
        );
        return { stripe_object_id: transaction.id };
      };
    case 'pause':
      return async (_request, idempotencyKey) => {
        const subscription = await stripe.subscriptions.update(
          String(p.subscription),
          { pause_collection: { behavior: p.behavior as Stripe.SubscriptionUpdateParams.PauseCollection.Behavior, resumes_at: Number(p.resumes_at) } },
          { idempotencyKey },
        );
        return { stripe_object_id: subscription.id };
      };
    case 'resume':
      return async (_request, idempotencyKey) => {
        const subscription = await stripe.subscriptions.update(String(p.subscription), { pause_collection: '' }, { idempotencyKey });
        return { stripe_object_id: subscription.id };
      };
    case 'retry_payment':
      // A decline is a 402 card_error: `failed` at once (classifyStripeFailure); the same key would replay it.
      return async (_request, idempotencyKey) => {
        const invoice = await stripe.invoices.pay(String(p.invoice), {}, { idempotencyKey });
        return { stripe_object_id: invoice.id };
      };
    case 'plan_change':
      return async (_request, idempotencyKey) => {
        const subscriptionId = String(p.subscription);
        const items = [{ id: String(p.item), price: String(p.price), quantity: Number(p.quantity) }];
        const behavior = p.proration_behavior as Stripe.SubscriptionUpdateParams.ProrationBehavior;
        // Stripe takes a proration_date only with prorations (as the preview did).
        const billing = { proration_behavior: behavior, ...(behavior === 'none' ? {} : { proration_date: Number(p.proration_date) }) };
        const current = (await stripe.subscriptions.retrieve(subscriptionId)).items.data.find((item) => item.id === items[0]!.id);
        // Already on the new plan: an earlier attempt of this request went through and its answer
        // was lost; the same key replays it. Otherwise the customer confirmed the previewed amount,
        // so it is previewed again, same date and items, and charged only if it still matches.
        const applied = current?.price.id === items[0]!.price && (current.quantity ?? 1) === items[0]!.quantity;
        if (!applied) {
          const preview = await stripe.invoices.createPreview({ customer: request.customer_id, subscription: subscriptionId, subscription_details: { items, ...billing } });
          if (preview.amount_due !== Number(p.expected_amount_due)) throw new DefiniteFailure(PRICE_CHANGED_REASON);
        }
        const subscription = await stripe.subscriptions.update(subscriptionId, { items, ...billing, metadata }, { idempotencyKey });
        return { stripe_object_id: subscription.id };
      };
  }
}
