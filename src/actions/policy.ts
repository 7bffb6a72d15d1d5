/**
 * The merchant's actions policy: which billing actions the assistant may start (refund, account
 * credit, pause, plan change, paying an open invoice now), within which limits, and which of them
 * a staff member must approve.
 * Read-only stays the default: an action the policy leaves out, or sets `enabled: false`, is off.
 *
 * One zod schema is the single source of truth: `ACTIONS_POLICY` (a JSON file, read at start by
 * policy-file.ts), each platform tenant's `settings.actions`, `policy --check` and the JSON Schema
 * that `policy --schema` prints are all this schema.
 *
 * Amounts are integers in the currency's minor unit (cents; yen for jpy), keyed by lowercase ISO
 * 4217 code: a currency the policy does not name is not allowed. An `auto_approve` limit the block
 * leaves out is the action's own limit (money limits must be named, so auto-approval of money is
 * always explicit). Consistency is checked here too: auto_approve never exceeds the action's own
 * limits, and names no currency the action does not.
 *
 * Interface for the next session: `parseActionsPolicy(json)` → `{ ok, policy }` or `{ ok: false,
 * problems }`, each problem a sentence that starts with the field's path; `decide()` in decide.ts.
 */
import { z } from 'zod';

export const ACTION_KINDS = ['refund', 'credit', 'pause', 'plan_change', 'retry_payment'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/** The reasons Stripe's refund API accepts from a caller (`expired_uncaptured_charge` is Stripe's own). */
export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

/** What Stripe does with invoices while collection is paused (`pause_collection.behavior`). */
export const PAUSE_BEHAVIORS = ['keep_as_draft', 'mark_uncollectible', 'void'] as const;

/** Upper bounds that only catch typos (a limit of 3650 days is already "no limit"). */
const MAX_AGE_DAYS = 3650;
const MAX_PAUSE_DAYS = 365;
const MAX_COUNT = 1000;

// Built on first use: every command loads this schema with the settings, few read a policy.
let isoCurrencies: Set<string> | undefined;
const isIsoCurrency = (code: string) => (isoCurrencies ??= new Set(Intl.supportedValuesOf('currency').map((known) => known.toLowerCase()))).has(code);

const currencyCode = z
  .string()
  .regex(/^[a-z]{3}$/, {
    error: (issue) =>
      typeof issue.input === 'string' && /^[A-Za-z]{3}$/.test(issue.input)
        ? `is not a currency code: currency codes are lowercase (${issue.input.toLowerCase()})`
        : 'is not a currency code: use a lowercase ISO 4217 code such as usd, eur or jpy',
  })
  .refine(isIsoCurrency, { error: 'is not an ISO 4217 currency code (e.g. usd, eur, jpy)' });

const MINOR_UNITS = 'must be a whole number of minor units ≥ 0';
const minorUnits = z
  .number({ error: MINOR_UNITS })
  .int({ error: MINOR_UNITS })
  .min(0, { error: MINOR_UNITS })
  .meta({ description: 'In the currency’s minor unit: 5000 is 50.00 usd; 500 jpy is ¥500.' });

/** Currency → the largest amount, in minor units. */
const amounts = z
  .record(currencyCode, minorUnits, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object of currency → amount, e.g. { "usd": 5000 }') })
  .refine((record) => Object.keys(record).length > 0, { error: 'must name at least one currency, e.g. { "usd": 5000 }' })
  .meta({ description: 'Lowercase ISO 4217 currency → amount in minor units. A currency not named here is not allowed.' });

const wholeNumber = (unit: string, min: number, max: number) => {
  const error = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const enabled = z.boolean({ error: (issue) => (issue.input === undefined ? 'is required: true or false' : 'must be true or false') }).meta({ description: 'Off unless true: the action’s tools are listed only when it is on.' });

const refundReasons = z
  .array(z.enum(REFUND_REASONS, { error: `must be one of ${REFUND_REASONS.join(', ')}` }), { error: `must be a list of reasons: ${REFUND_REASONS.join(', ')}` })
  .min(1, { error: `must name at least one reason: ${REFUND_REASONS.join(', ')}` })
  .refine((reasons) => new Set(reasons).size === reasons.length, { error: 'names a reason twice' });

/** A required-when-enabled check: the JSON Schema says it with if/then, zod with this refinement. */
function requiredWhenEnabled(action: ActionKind, fields: readonly string[]) {
  return {
    meta: { if: { properties: { enabled: { const: true } }, required: ['enabled'] }, then: { required: [...fields] } },
    check(value: Record<string, unknown>, ctx: z.RefinementCtx) {
      if (value.enabled !== true) return;
      for (const field of fields) {
        if (value[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is required when ${action} is enabled` });
      }
    },
  };
}

/** auto_approve.max_amount within the action's max_amount: same currencies, never more. */
function checkAutoAmounts(action: ActionKind, limits: Record<string, number> | undefined, auto: Record<string, number> | undefined, ctx: z.RefinementCtx): void {
  if (!limits || !auto) return;
  for (const [currency, amount] of Object.entries(auto)) {
    const limit = limits[currency];
    if (limit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['auto_approve', 'max_amount', currency], message: `names a currency that ${action}.max_amount does not (add ${currency} to ${action}.max_amount, or remove it here)` });
    } else if (amount > limit) {
      ctx.addIssue({ code: 'custom', path: ['auto_approve', 'max_amount', currency], message: `must be at most ${action}.max_amount.${currency} (${limit})` });
    }
  }
}

function checkAutoLimit(action: ActionKind, field: string, limit: number | undefined, auto: number | undefined, ctx: z.RefinementCtx): void {
  if (limit !== undefined && auto !== undefined && auto > limit) {
    ctx.addIssue({ code: 'custom', path: ['auto_approve', field], message: `must be at most ${action}.${field} (${limit})` });
  }
}

type Amounts = Record<string, number> | undefined;

/** Every auto_approve limit within the action's own limit of the same name: each action's auto_approve fields are a subset of its limits. */
function checkAutoWithinLimits(action: ActionKind, policy: { max_amount?: Amounts; auto_approve?: object | undefined }, ctx: z.RefinementCtx): void {
  const limits = policy as Record<string, unknown>;
  for (const [field, auto] of Object.entries(policy.auto_approve ?? {})) {
    if (field === 'max_amount') checkAutoAmounts(action, policy.max_amount, auto as Amounts, ctx);
    else checkAutoLimit(action, field, limits[field] as number | undefined, auto as number | undefined, ctx);
  }
}

const refundRequired = requiredWhenEnabled('refund', ['reasons', 'max_age_days', 'max_amount']);
export const refundPolicySchema = z
  .strictObject({
    enabled,
    reasons: refundReasons.optional().meta({ description: 'The refund reasons a customer may give; any other is refused.' }),
    max_age_days: wholeNumber('days', 1, MAX_AGE_DAYS).optional().meta({ description: 'Payments older than this are not refunded.' }),
    max_amount: amounts.optional().meta({ description: 'The largest refund per currency; a refund above it is refused.' }),
    max_per_customer_per_30_days: wholeNumber('refunds', 1, MAX_COUNT).optional().meta({ description: 'Refunds one customer may have in 30 days; more are refused. Unset: no limit.' }),
    auto_approve: z
      .strictObject({
        max_amount: amounts.meta({ description: 'Refunds up to this are carried out without a staff approval; 0 means always ask.' }),
        max_age_days: wholeNumber('days', 0, MAX_AGE_DAYS).optional(),
        max_per_customer_per_30_days: wholeNumber('refunds', 0, MAX_COUNT).optional(),
      })
      .optional()
      .meta({ description: 'Within every limit here the refund needs no staff approval; above any, it waits for one. Unset: every refund waits for one.' }),
  })
  .meta(refundRequired.meta)
  .superRefine((refund, ctx) => {
    refundRequired.check(refund, ctx);
    checkAutoWithinLimits('refund', refund, ctx);
  });

const creditRequired = requiredWhenEnabled('credit', ['max_amount']);
export const creditPolicySchema = z
  .strictObject({
    enabled,
    max_amount: amounts.optional().meta({ description: 'The largest credit to the customer’s balance per currency; above it is refused.' }),
    auto_approve: z
      .strictObject({ max_amount: amounts.meta({ description: 'Credits up to this need no staff approval; 0 means always ask.' }) })
      .optional()
      .meta({ description: 'Unset: every credit waits for a staff approval.' }),
  })
  .meta(creditRequired.meta)
  .superRefine((credit, ctx) => {
    creditRequired.check(credit, ctx);
    checkAutoWithinLimits('credit', credit, ctx);
  });

const pauseRequired = requiredWhenEnabled('pause', ['max_days', 'behavior']);
export const pausePolicySchema = z
  .strictObject({
    enabled,
    max_days: wholeNumber('days', 1, MAX_PAUSE_DAYS).optional().meta({ description: 'The longest pause; longer is refused.' }),
    behavior: z
      .enum(PAUSE_BEHAVIORS, { error: `must be one of ${PAUSE_BEHAVIORS.join(', ')}` })
      .optional()
      .meta({ description: 'Stripe’s pause_collection.behavior: what happens to invoices made while paused.' }),
    max_per_customer_per_365_days: wholeNumber('pauses', 1, MAX_COUNT).optional().meta({ description: 'Pauses one customer may have in 365 days; more are refused. Unset: no limit.' }),
    auto_approve: z
      .strictObject({
        max_days: wholeNumber('days', 0, MAX_PAUSE_DAYS).optional(),
        max_per_customer_per_365_days: wholeNumber('pauses', 0, MAX_COUNT).optional(),
      })
      .optional()
      .meta({ description: 'Within every limit here the pause needs no staff approval. Unset: every pause waits for one.' }),
  })
  .meta(pauseRequired.meta)
  .superRefine((pause, ctx) => {
    pauseRequired.check(pause, ctx);
    checkAutoWithinLimits('pause', pause, ctx);
  });

const planChangeRequired = requiredWhenEnabled('plan_change', ['max_amount']);
export const planChangePolicySchema = z
  .strictObject({
    enabled,
    max_amount: amounts.optional().meta({ description: 'The largest amount a plan change may charge at once (the previewed proration); above it is refused.' }),
    max_per_customer_per_30_days: wholeNumber('plan changes', 1, MAX_COUNT).optional().meta({ description: 'Plan changes one customer may make in 30 days; more are refused. Unset: no limit.' }),
    auto_approve: z
      .strictObject({
        max_amount: amounts.meta({ description: 'Changes charging up to this at once need no staff approval; 0: only changes that charge nothing now.' }),
        max_per_customer_per_30_days: wholeNumber('plan changes', 0, MAX_COUNT).optional(),
      })
      .optional()
      .meta({ description: 'Unset: every plan change waits for a staff approval.' }),
  })
  .meta(planChangeRequired.meta)
  .superRefine((change, ctx) => {
    planChangeRequired.check(change, ctx);
    checkAutoWithinLimits('plan_change', change, ctx);
  });

/**
 * Paying now an invoice the customer already owes, with the card on file: no money leaves the
 * merchant and nothing is promised, so it needs no limit at all and, within the limits a merchant
 * does set, no staff approval (auto_approve unset: every confirmed retry runs at once). A merchant
 * who wants a person to look at large retries names auto_approve.max_amount; max_per_customer
 * keeps a customer from hammering a card that keeps declining (banks flag repeated attempts).
 */
export const retryPaymentPolicySchema = z
  .strictObject({
    enabled,
    max_amount: amounts.optional().meta({ description: 'The largest invoice payment per currency; above it is refused, and a currency not named here too. Unset: any amount the customer owes.' }),
    max_per_customer_per_30_days: wholeNumber('payment retries', 1, MAX_COUNT).optional().meta({ description: 'Payment retries one customer may ask for in 30 days; more are refused. Unset: no limit.' }),
    auto_approve: z
      .strictObject({
        max_amount: amounts.optional().meta({ description: 'Retries paying up to this need no staff approval; above it, or in a currency not named, they wait for one.' }),
        max_per_customer_per_30_days: wholeNumber('payment retries', 0, MAX_COUNT).optional(),
      })
      .optional()
      .meta({ description: 'Unset: every retry within the limits is carried out once the customer confirms it (the customer pays what they owe).' }),
  })
  .superRefine((retry, ctx) => {
    checkAutoWithinLimits('retry_payment', retry, ctx);
  });

export const actionsPolicySchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Where an editor finds this schema (stripe-billing-mcp policy --schema > policy.schema.json); ignored.' }),
    refund: refundPolicySchema.optional(),
    credit: creditPolicySchema.optional(),
    pause: pausePolicySchema.optional(),
    plan_change: planChangePolicySchema.optional(),
    retry_payment: retryPaymentPolicySchema.optional(),
  })
  .meta({
    title: 'stripe-billing-mcp actions policy',
    description: 'Which billing actions the assistant may start, within which limits, and which need a staff approval. An action left out is off.',
  });

export type ActionsPolicy = z.output<typeof actionsPolicySchema>;
export type RefundPolicy = z.output<typeof refundPolicySchema>;
export type CreditPolicy = z.output<typeof creditPolicySchema>;
export type PausePolicy = z.output<typeof pausePolicySchema>;
export type PlanChangePolicy = z.output<typeof planChangePolicySchema>;
export type RetryPaymentPolicy = z.output<typeof retryPaymentPolicySchema>;


/** The fields each object of the policy takes, for an unknown field's message. */
const FIELDS: Record<string, readonly string[]> = {
  '': [...ACTION_KINDS, '$schema'],
  refund: Object.keys(refundPolicySchema.shape),
  'refund.auto_approve': ['max_amount', 'max_age_days', 'max_per_customer_per_30_days'],
  credit: Object.keys(creditPolicySchema.shape),
  'credit.auto_approve': ['max_amount'],
  pause: Object.keys(pausePolicySchema.shape),
  'pause.auto_approve': ['max_days', 'max_per_customer_per_365_days'],
  plan_change: Object.keys(planChangePolicySchema.shape),
  'plan_change.auto_approve': ['max_amount', 'max_per_customer_per_30_days'],
  retry_payment: Object.keys(retryPaymentPolicySchema.shape),
  'retry_payment.auto_approve': ['max_amount', 'max_per_customer_per_30_days'],
};

/** `refund.max_amount.usd`, `refund.reasons[1]`. */
export function policyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');
}

/** One sentence per problem, each starting with the field it is about. */
export function describePolicyIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  // A value can fail two checks with one message (-1.5 is neither whole nor ≥ 0): say it once.
  return [...new Set(issues.flatMap((issue) => describeIssue(issue, prefix)))];
}

function describeIssue(issue: z.core.$ZodIssue, prefix: string): string[] {
  const path = policyPath([...(prefix ? [prefix] : []), ...issue.path]);
  const at = path ? `${path} ` : '';
  if (issue.code === 'unrecognized_keys') {
    const where = policyPath(issue.path);
    const known = FIELDS[where];
    return issue.keys.map((key) => {
      const field = policyPath([...(prefix ? [prefix] : []), ...issue.path, key]);
      if (where === '') return `${field} is not an action of the policy (the actions are ${ACTION_KINDS.join(', ')})`;
      return `${field} is not a field of ${where}${known ? ` (its fields are ${known.join(', ')})` : ''}`;
    });
  }
  if (issue.code === 'invalid_key') return [`${at}${issue.issues[0]?.message ?? 'is not a currency code'}`];
  if (issue.code === 'invalid_type' && issue.expected === 'object') return [path ? `${path} must be a JSON object` : 'The policy must be a JSON object'];
  return [`${at}${issue.message}`];
}

export type PolicyParse = { ok: true; policy: ActionsPolicy } | { ok: false; problems: string[] };

/** Validates a policy already parsed from JSON (a file's contents, or a tenant's `settings.actions`). */
export function parseActionsPolicy(input: unknown): PolicyParse {
  const result = actionsPolicySchema.safeParse(input);
  return result.success ? { ok: true, policy: result.data } : { ok: false, problems: describePolicyIssues(result.error.issues) };
}

/** The policy's JSON Schema (draft 2020-12), generated from the zod schema above. */
export function actionsPolicyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(actionsPolicySchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** The actions the policy turns on, in a stable order. */
export function enabledActions(policy: ActionsPolicy | undefined): ActionKind[] {
  return ACTION_KINDS.filter((kind) => policy?.[kind]?.enabled === true);
}
