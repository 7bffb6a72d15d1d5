import { z } from 'zod';
import { ToolError, UserInputError } from '../../errors.js';
import { answerWork, stripeFor, type StripeWork } from '../../stripe/caller-context.js';
import { mapStripeError } from '../../stripe/errors.js';
import { isPlausibleEmail, normalizeEmail, type Principal, type UnverifiedVisitor } from '../../verify/principal.js';
import type { CustomerTarget, ToolContext, ToolRuntime } from './context.js';
import { OptionalSections } from './optional-sections.js';
import { boundedString, matching, optionalInput } from './schemas.js';

/** The only way staff choose whom a tool is about; customer-mode schemas never have these. */
export const staffTargetShape = {
  email: optionalInput(boundedString({ max: 254 })).describe("The customer's email (all of their Stripe records are included)."),
  customer_id: optionalInput(matching(z.string(), /^cus_[A-Za-z0-9]+$/, 'customer_id looks like cus_…')).describe('A Stripe customer id (cus_…), instead of email.'),
};

export interface StaffTarget {
  email?: string | undefined;
  customer_id?: string | undefined;
}

export const NOT_VERIFIED_MESSAGE =
  "The customer's identity has not been verified, so no billing details can be shared yet. Ask the customer to sign in to their account in this chat so the site can confirm who they are; do not ask for or accept an email address as proof.";

export const NOT_VERIFIED_CODE_MESSAGE =
  "The customer's identity has not been verified, so no billing details can be shared yet. Ask the customer for the email address of their billing account, then call verify_email_start; they will receive a 6-digit code to give you for verify_email_confirm.";

function notVerifiedMessage(runtime: ToolRuntime, principal: UnverifiedVisitor): string {
  // Never point the model at verify_email_start while it is left out of the list (mail or store down).
  const codesWork = runtime.verification && (runtime.availability?.isListedByName('verify_email_start') ?? true);
  const message = codesWork ? NOT_VERIFIED_CODE_MESSAGE : NOT_VERIFIED_MESSAGE;
  // A host's set-up mistake (a token without the merchant's `aud`) is said where its developers look.
  return principal.hostFix ? `${message} (For the site's developers: ${principal.hostFix})` : message;
}

export const NO_BILLING_ACCOUNT_MESSAGE =
  'No billing account was found for this email address. The customer may have signed up with a different email; they can check the address on their receipts.';

/** Undefined when there is nobody to look up, or nobody found. */
async function resolveTarget(runtime: Pick<ToolRuntime, 'reads'>, principal: Principal, staffTarget: StaffTarget | undefined): Promise<CustomerTarget | undefined> {
  if (principal.kind === 'unverified') return undefined;
  if (principal.kind === 'customer') {
    const customers = await runtime.reads.customersByEmail(principal.email).catch((error: unknown) => {
      throw mapStripeError(error, 'find customers by email');
    });
    if (customers.length === 0) return undefined;
    return { email: principal.email, customers, unverified: principal.verifiedBy === 'trust-email' };
  }
  return resolveStaffTarget(runtime, staffTarget);
}

async function resolveStaffTarget(runtime: Pick<ToolRuntime, 'reads'>, staffTarget: StaffTarget | undefined): Promise<CustomerTarget | undefined> {
  const customerId = staffTarget?.customer_id;
  const email = staffTarget?.email?.trim();
  if (customerId) {
    const customer = await runtime.reads.customer(customerId).catch((error: unknown) => {
      throw mapStripeError(error, 'retrieve customer');
    });
    if (!customer) throw new ToolError('not_found', `Customer ${customerId} has been deleted.`);
    return { email: customer.email ? normalizeEmail(customer.email) : null, customers: [customer], unverified: false };
  }
  if (email) {
    if (!isPlausibleEmail(email)) throw new UserInputError('That does not look like an email address.');
    const customers = await runtime.reads.customersByEmail(email).catch((error: unknown) => {
      throw mapStripeError(error, 'find customers by email');
    });
    if (customers.length === 0) return undefined;
    return { email: normalizeEmail(email), customers, unverified: false };
  }
  return undefined;
}

/** Builds the per-call context; the target is looked up at most once per call. */
export function createToolContext(
  runtime: ToolRuntime,
  principal: Principal,
  staffTarget: StaffTarget | undefined,
  conversation: string | undefined,
  /** The tool's optionalPermissions; none (the panel): every 403 fails the read as before. */
  optionalPermissions?: Readonly<Record<string, string>>,
  /** Who asked and through which surface, and the person's channels (runTool); the panel: none. */
  call: Pick<ToolContext, 'caller' | 'surface' | 'handOff' | 'askPerson'> = { caller: undefined, surface: 'panel', handOff: () => undefined },
  /** Whose Stripe requests the call's are (the request budget's shares); default: the caller's answer. */
  work: StripeWork | undefined = answerWork(call.caller),
): ToolContext {
  let lookup: Promise<CustomerTarget | undefined> | undefined;
  // The call's Stripe client, reads and actions carry its work to the request budget.
  const stripe = stripeFor(runtime.stripe, work);
  const reads = work ? runtime.reads.forWork(work) : runtime.reads;
  const actions = runtime.actions?.withStripe(stripe);
  const load = () => (lookup ??= resolveTarget({ reads }, principal, staffTarget));
  // The runtime is the context's prototype, not copied into it: spreading its members into every
  // call's context took about 20 µs a call. The per-call members are the context's own.
  return Object.assign(Object.create(runtime) as ToolRuntime, {
    stripe,
    reads,
    actions,
    principal,
    conversation,
    async customer() {
      if (principal.kind === 'unverified') throw new ToolError('not_verified', notVerifiedMessage(runtime, principal));
      if (principal.kind === 'staff' && !staffTarget?.customer_id && !staffTarget?.email?.trim()) {
        throw new UserInputError('Say which customer: give their email or customer_id.');
      }
      const target = await load();
      if (!target) throw new ToolError('not_found', NO_BILLING_ACCOUNT_MESSAGE);
      return target;
    },
    optionalCustomer: load,
    lookedUp: () => (lookup ?? Promise.resolve(undefined)).catch(() => undefined),
    sections: new OptionalSections(optionalPermissions, (permission) => runtime.availability?.lacks(permission) ?? false),
    ...call,
  });
}
