import type Stripe from 'stripe';
import type { BillingReads } from '../../cache/billing-reads.js';
import type { SlimCustomer } from '../../cache/projections.js';
import type { StripeRateBudget } from '../../stripe/rate-budget.js';
import type { ActionsEngine, ConfirmationHandoff } from '../../actions/engine.js';
import type { AuditTrail } from '../../audit/audit-trail.js';
import type { AuditSurface } from '../../audit/record.js';
import type { Logger } from '../../log.js';
import type { Principal } from '../../verify/principal.js';
import type { StripeKeyInfo } from '../../stripe/key.js';
import type { Store } from '../../verify/store.js';
import type { Verification } from '../../verify/verification.js';
import type { OptionalSections } from './optional-sections.js';
import type { ToolAvailability } from './tool-availability.js';

/** Settings tools read; a subset of Settings so tests can build it by hand. */
export interface ToolSettings {
  couponAllowlist: readonly string[];
  portalReturnUrl?: string | undefined;
  portalConfiguration?: string | undefined;
  /** CANCEL_RETENTION_COUPON: the coupon the portal's cancel flow offers to keep the customer. */
  cancelRetentionCoupon?: string | undefined;
  /** PLAN_PRODUCTS: the products get_available_plans may show (else the portal's switchable ones). */
  planProducts?: readonly string[] | undefined;
}

/** What one process (or one HTTP app) shares across tool calls. */
export interface ToolRuntime {
  stripe: Stripe;
  key: StripeKeyInfo;
  settings: ToolSettings;
  log: Logger;
  /** Cached Stripe reads for the read tools; writes, portal links and their checks use `stripe` directly. */
  reads: BillingReads;
  /** Stripe's request rate, shared by every process: every request takes room in it first. */
  budget: StripeRateBudget;
  /** Shared state with TTLs: cooldowns, grants, codes (memory or Redis). */
  store: Store;
  /** How visitors verify their email; undefined when only identity tokens are accepted. */
  verification: Verification | undefined;
  /** Which tools the Stripe key and account allow (start-up probe); absent: all are listed. */
  availability?: ToolAvailability | undefined;
  /** Platform mode: the merchant this runtime serves (recorded with every audit record). */
  tenantId?: string | undefined;
  /** The disclosure audit trail (AUDIT): every call's record is handed to it. */
  audit?: AuditTrail | undefined;
  /** The actions engine (ACTIONS_POLICY turns an action on): refunds, credits, pauses, resumes. */
  actions?: ActionsEngine | undefined;
  /** Told of every tool call's outcome (metrics). */
  observe?: ((event: { tool: string; outcome: string; ms: number }) => void) | undefined;
}

/** The customer records a call is about, chosen by the server, never by the model. */
export interface CustomerTarget {
  /** Normalised email the records share; null when staff chose a record by id and it has none. */
  email: string | null;
  /** One or more live records (one person may have several), newest first. */
  customers: SlimCustomer[];
  /** True under VERIFY_MODE=trust-email: results say the identity was not verified. */
  unverified: boolean;
}

export interface ToolContext extends ToolRuntime {
  principal: Principal;
  /** The conversation key the server derived (stdio: the process); verification grants hang off it. */
  conversation: string | undefined;
  /** The target for customer tools; throws a ToolError (not verified / no billing account). */
  customer(): Promise<CustomerTarget>;
  /** The target if one is known and exists, for account tools that personalise. */
  optionalCustomer(): Promise<CustomerTarget | undefined>;
  /** The target this call looked up, if it did (the audit trail records whose records were touched). */
  lookedUp(): Promise<CustomerTarget | undefined>;
  /** The sections this call left out for a missing permission the tool can answer without. */
  sections: OptionalSections;
  /** Who asked (`host:acme-bot`, `staff:alice`; stdio: undefined) and through which surface: action requests record both. */
  caller: string | undefined;
  surface: AuditSurface;
  /**
   * Hands a request's confirmation to the person, never to the model: runTool returns it beside
   * the output (the host's `confirmation`, MCP `_meta`), never inside output, text or errors.
   */
  handOff(confirmation: ConfirmationHandoff): void;
  /**
   * Asks the person directly, where the client can (MCP form elicitation): resolves to their
   * answer, or undefined when this client cannot ask or the person dismissed it.
   */
  askPerson?: ((question: PersonQuestion) => Promise<'confirm' | 'cancel' | undefined>) | undefined;
}

/** A yes/no question shown to the person by their client, not by the model. */
export interface PersonQuestion {
  message: string;
}
