import { Ajv2020 } from 'ajv/dist/2020.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, type ActionRequest, type CustomerHistory, type Decision } from '../src/actions/decide.js';
import { runPolicyCommand } from '../src/actions/policy-command.js';
import { parseActionsPolicy, type ActionsPolicy } from '../src/actions/policy.js';
import { loadSettings } from '../src/config.js';
import { ISSUE_EXAMPLE_POLICY } from '../src/demo/actions-policy.js';
import { FakeStripe, FakeStripeAccounts } from '../src/demo/fake-stripe/index.js';
import { runDoctor, type DoctorReport } from '../src/doctor/run-doctor.js';
import { silentLogger } from '../src/log.js';
import { startPlatform, type RunningPlatform } from '../src/platform/serve-platform.js';
import { createRuntime } from '../src/runtime.js';
import { selectTools } from '../src/tools/registry.js';
import { tempDirAfterAll } from './support/audit.js';
import { runCli } from './support/cli.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { TEST_STRIPE_KEY, testSettings } from './support/mcp-harness.js';

const tempDir = tempDirAfterAll('sbm-actions-policy-');

/** The example of issue 22, word for word. */
const ISSUE_EXAMPLE = ISSUE_EXAMPLE_POLICY;

const PLAN_CHANGE = { enabled: true, max_amount: { usd: 50000, jpy: 50000 }, max_per_customer_per_30_days: 2, auto_approve: { max_amount: { usd: 10000 }, max_per_customer_per_30_days: 1 } };

function policyFile(content: unknown): string {
  const path = join(tempDir(), 'policy.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The example with one field changed, by path: `['refund', 'auto_approve', 'max_amount', 'usd']`. */
function exampleWith(path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(ISSUE_EXAMPLE) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[path[path.length - 1]!];
  else node[path[path.length - 1]!] = value;
  return copy;
}

/** What the server says at start about ACTIONS_POLICY pointing at this content. */
function startUpProblem(content: unknown): string {
  try {
    loadSettings({ ACTIONS_POLICY: policyFile(content) });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the settings were accepted');
}

describe('the policy schema', () => {
  it('parses the example of the issue, and a plan change', () => {
    const settings = loadSettings({ ACTIONS_POLICY: policyFile(ISSUE_EXAMPLE) });
    expect(settings.ACTIONS_POLICY).toEqual(ISSUE_EXAMPLE);
    expect(parseActionsPolicy({ ...ISSUE_EXAMPLE, plan_change: PLAN_CHANGE })).toMatchObject({ ok: true });
  });

  it('is read-only without ACTIONS_POLICY, and an action may be switched off without its limits', () => {
    expect(loadSettings({}).ACTIONS_POLICY).toBeUndefined();
    expect(parseActionsPolicy({ refund: { enabled: false }, pause: { ...ISSUE_EXAMPLE.pause, enabled: false } })).toMatchObject({ ok: true });
  });

  it.each([
    [['refund', 'auto_approve', 'max_amount', 'usd'], 49.5, 'ACTIONS_POLICY: refund.auto_approve.max_amount.usd must be a whole number of minor units ≥ 0'],
    [['refund', 'max_amount', 'usd'], -1, 'ACTIONS_POLICY: refund.max_amount.usd must be a whole number of minor units ≥ 0'],
    [['credit', 'max_amount', 'usd'], '5000', 'ACTIONS_POLICY: credit.max_amount.usd must be a whole number of minor units ≥ 0'],
    [['refund', 'max_amount'], { USD: 20000 }, 'ACTIONS_POLICY: refund.max_amount.USD is not a currency code: currency codes are lowercase (usd)'],
    [['refund', 'max_amount'], { xyz: 20000 }, 'ACTIONS_POLICY: refund.max_amount.xyz is not an ISO 4217 currency code'],
    [['refund', 'max_amount'], {}, 'ACTIONS_POLICY: refund.max_amount must name at least one currency'],
    [['refund', 'reasons'], ['duplicate', 'changed_my_mind'], 'ACTIONS_POLICY: refund.reasons[1] must be one of duplicate, fraudulent, requested_by_customer'],
    [['refund', 'max_age_days'], 0, 'ACTIONS_POLICY: refund.max_age_days must be a whole number of days from 1 to 3650'],
    [['pause', 'behavior'], 'cancel', 'ACTIONS_POLICY: pause.behavior must be one of keep_as_draft, mark_uncollectible, void'],
    [['pause', 'max_days'], 400, 'ACTIONS_POLICY: pause.max_days must be a whole number of days from 1 to 365'],
    [['pause', 'enabled'], 'yes', 'ACTIONS_POLICY: pause.enabled must be true or false'],
    [['credit', 'enabled'], undefined, 'ACTIONS_POLICY: credit.enabled is required'],
    [['refund', 'max_amount'], undefined, 'ACTIONS_POLICY: refund.max_amount is required when refund is enabled'],
    [['pause', 'behavior'], undefined, 'ACTIONS_POLICY: pause.behavior is required when pause is enabled'],
  ])('%j = %j is refused at start, naming the field', (path, value, message) => {
    expect(startUpProblem(exampleWith(path, value))).toContain(message);
  });

  it.each([
    [['refund', 'auto_aprove'], {}, 'ACTIONS_POLICY: refund.auto_aprove is not a field of refund (its fields are enabled, reasons, max_age_days'],
    [['refund', 'auto_approve', 'max_amount_usd'], 1, 'ACTIONS_POLICY: refund.auto_approve.max_amount_usd is not a field of refund.auto_approve'],
    [['refunds'], {}, 'ACTIONS_POLICY: refunds is not an action of the policy (the actions are refund, credit, pause, plan_change, retry_payment)'],
  ])('an unknown key %j is an error that names it', (path, value, message) => {
    expect(startUpProblem(exampleWith(path, value))).toContain(message);
  });

  it.each([
    [['refund', 'auto_approve', 'max_amount'], { usd: 5000, eur: 100 }, 'ACTIONS_POLICY: refund.auto_approve.max_amount.eur names a currency that refund.max_amount does not'],
    [['refund', 'auto_approve', 'max_amount'], { usd: 20001 }, 'ACTIONS_POLICY: refund.auto_approve.max_amount.usd must be at most refund.max_amount.usd (20000)'],
    [['refund', 'auto_approve', 'max_age_days'], 31, 'ACTIONS_POLICY: refund.auto_approve.max_age_days must be at most refund.max_age_days (30)'],
    [['credit', 'auto_approve', 'max_amount'], { usd: 6000 }, 'ACTIONS_POLICY: credit.auto_approve.max_amount.usd must be at most credit.max_amount.usd (5000)'],
    [['pause', 'auto_approve', 'max_days'], 91, 'ACTIONS_POLICY: pause.auto_approve.max_days must be at most pause.max_days (90)'],
    [['pause', 'auto_approve', 'max_per_customer_per_365_days'], 3, 'ACTIONS_POLICY: pause.auto_approve.max_per_customer_per_365_days must be at most pause.max_per_customer_per_365_days (2)'],
  ])('auto_approve beyond the action: %j = %j', (path, value, message) => {
    expect(startUpProblem(exampleWith(path, value))).toContain(message);
  });

  it('says each problem once, even when a value breaks two rules', () => {
    expect(parseActionsPolicy(exampleWith(['credit', 'max_amount', 'usd'], -1.5))).toEqual({ ok: false, problems: ['credit.max_amount.usd must be a whole number of minor units ≥ 0'] });
  });

  it('a payment retry needs only enabled, and its auto_approve stays within its limits', () => {
    expect(parseActionsPolicy({ retry_payment: { enabled: true } })).toEqual({ ok: true, policy: { retry_payment: { enabled: true } } });
    expect(parseActionsPolicy({ retry_payment: { enabled: true, max_amount: { usd: 5000 }, auto_approve: { max_amount: { usd: 6000 } } } })).toEqual({
      ok: false,
      problems: ['retry_payment.auto_approve.max_amount.usd must be at most retry_payment.max_amount.usd (5000)'],
    });
    expect(parseActionsPolicy({ retry_payment: { enabled: true, max_tries: 2 } })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^retry_payment\.max_tries is not a field of retry_payment \(its fields are enabled, max_amount/)] });
  });

  it('a plan change is checked the same way', () => {
    const problem = parseActionsPolicy({ plan_change: { ...PLAN_CHANGE, auto_approve: { max_amount: { gbp: 1 } } } });
    expect(problem).toEqual({ ok: false, problems: ['plan_change.auto_approve.max_amount.gbp names a currency that plan_change.max_amount does not (add gbp to plan_change.max_amount, or remove it here)'] });
  });

  it('a missing file, a folder or a file that is not JSON stops the start and says so', () => {
    const missing = join(tempDir(), 'nowhere.json');
    expect(() => loadSettings({ ACTIONS_POLICY: missing })).toThrow(`ACTIONS_POLICY: there is no file at ${missing}`);
    const folder = tempDir();
    expect(() => loadSettings({ ACTIONS_POLICY: folder })).toThrow(`ACTIONS_POLICY: ${folder} is a folder`);
    expect(startUpProblem('{ "refund": { "enabled": true, } }')).toMatch(/ACTIONS_POLICY: .*policy\.json is not valid JSON/);
    expect(startUpProblem('[]')).toContain('ACTIONS_POLICY: The policy must be a JSON object');
  });
});

describe('decide()', () => {
  const NOW = Date.UTC(2026, 11, 1, 12);
  const DAY = 86_400;
  const policy = { ...ISSUE_EXAMPLE, plan_change: PLAN_CHANGE } as ActionsPolicy;
  const none: CustomerHistory = { refund: 0, pause: 0, plan_change: 0, retry_payment: 0 };
  const paidDaysAgo = (days: number) => NOW / 1000 - days * DAY;
  const refund = (over: Partial<Extract<ActionRequest, { kind: 'refund' }>> = {}): ActionRequest => ({ kind: 'refund', amount: 2500, currency: 'usd', reason: 'duplicate', payment_created: paidDaysAgo(3), ...over });
  const limits = (decision: Decision) => (decision.outcome === 'needs_approval' ? decision.because.map((reason) => reason.limit) : decision.outcome);

  describe('refund', () => {
    it('is auto-approved within every auto_approve limit', () => {
      expect(decide(policy, refund(), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(policy, refund({ amount: 5000, payment_created: paidDaysAgo(14) }), none, NOW)).toEqual({ outcome: 'auto_approve' });
    });

    it.each([
      ['an amount above auto_approve', refund({ amount: 5001 }), none, ['refund.auto_approve.max_amount.usd']],
      ['a payment older than auto_approve allows', refund({ payment_created: paidDaysAgo(15) }), none, ['refund.auto_approve.max_age_days']],
      ['a second refund in 30 days', refund(), { ...none, refund: 1 }, ['refund.auto_approve.max_per_customer_per_30_days']],
      ['all three at once', refund({ amount: 9000, payment_created: paidDaysAgo(20) }), { ...none, refund: 1 }, ['refund.auto_approve.max_amount.usd', 'refund.auto_approve.max_age_days', 'refund.auto_approve.max_per_customer_per_30_days']],
    ])('needs a staff approval for %s', (_what, request, history, expected) => {
      expect(limits(decide(policy, request, history, NOW))).toEqual(expected);
    });

    it('says in plain words why it waits for staff', () => {
      const decision = decide(policy, refund({ amount: 9000 }), none, NOW);
      expect(decision).toEqual({ outcome: 'needs_approval', because: [{ limit: 'refund.auto_approve.max_amount.usd', message: "$90.00 is above the $50.00 that this merchant's policy approves without staff." }] });
    });

    it.each([
      ['a payment older than the policy allows', refund({ payment_created: paidDaysAgo(30) - 1 }), none, "Refunds of payments older than 30 days are not allowed by this merchant's policy."],
      ['an amount above max_amount', refund({ amount: 20001 }), none, "Refunds above $200.00 are not allowed by this merchant's policy."],
      ['a reason the policy does not list', refund({ reason: 'fraudulent' }), none, 'Refunds for the reason "fraudulent" are not allowed by this merchant\'s policy; the reasons it accepts: duplicate and requested by customer.'],
      ['a reason Stripe does not know', refund({ reason: 'I changed my mind' }), none, "That is not a refund reason this merchant accepts; the reasons it accepts: duplicate and requested by customer."],
      ['a currency the policy does not name', refund({ currency: 'eur' }), none, "Refunds in EUR are not allowed by this merchant's policy (only in USD)."],
      ['a zero amount', refund({ amount: 0 }), none, 'A refund must be for a positive amount.'],
    ])('is refused for %s', (_what, request, history, reason) => {
      expect(decide(policy, request, history, NOW)).toEqual({ outcome: 'refused', reason });
    });

    it('is allowed up to exactly max_age_days old', () => {
      expect(decide(policy, refund({ payment_created: paidDaysAgo(30) }), none, NOW)).toMatchObject({ outcome: 'needs_approval' });
    });

    it('is refused past a per-customer limit of the action itself', () => {
      const capped = { refund: { ...ISSUE_EXAMPLE.refund, max_per_customer_per_30_days: 2 } } as ActionsPolicy;
      expect(decide(capped, refund(), { ...none, refund: 1 }, NOW)).toMatchObject({ outcome: 'needs_approval' });
      expect(decide(capped, refund(), { ...none, refund: 2 }, NOW)).toEqual({ outcome: 'refused', reason: "This merchant's policy allows at most 2 refunds per customer in 30 days, and this customer has had 2 already." });
    });

    it('always needs staff when the policy has no auto_approve, or a currency auto_approve leaves out', () => {
      const manual = { refund: { ...ISSUE_EXAMPLE.refund, auto_approve: undefined } } as ActionsPolicy;
      expect(limits(decide(manual, refund({ amount: 1 }), none, NOW))).toEqual(['refund.auto_approve']);
      const twoCurrencies = { refund: { ...ISSUE_EXAMPLE.refund, max_amount: { usd: 20000, eur: 20000 } } } as ActionsPolicy;
      expect(limits(decide(twoCurrencies, refund({ currency: 'eur', amount: 1 }), none, NOW))).toEqual(['refund.auto_approve.max_amount.eur']);
    });
  });

  describe('credit', () => {
    const credit = (amount: number, currency = 'usd'): ActionRequest => ({ kind: 'credit', amount, currency });

    it('needs a staff approval for every credit under an auto_approve of 0, and is auto-approved under a higher one', () => {
      expect(decide(policy, credit(100), none, NOW)).toEqual({ outcome: 'needs_approval', because: [{ limit: 'credit.auto_approve.max_amount.usd', message: 'Every account credit of an amount needs a staff approval.' }] });
      const generous = { credit: { ...ISSUE_EXAMPLE.credit, auto_approve: { max_amount: { usd: 1000 } } } } as ActionsPolicy;
      expect(decide(generous, credit(1000), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(limits(decide(generous, credit(1001), none, NOW))).toEqual(['credit.auto_approve.max_amount.usd']);
    });

    it('is refused above max_amount and in a currency the policy does not name', () => {
      expect(decide(policy, credit(5001), none, NOW)).toEqual({ outcome: 'refused', reason: "Account credits above $50.00 are not allowed by this merchant's policy." });
      expect(decide(policy, credit(100, 'JPY'), none, NOW)).toEqual({ outcome: 'refused', reason: "Account credits in JPY are not allowed by this merchant's policy (only in USD)." });
    });
  });

  describe('pause', () => {
    const pause = (days: number): ActionRequest => ({ kind: 'pause', days });

    it('is auto-approved up to auto_approve.max_days and needs a staff approval beyond', () => {
      expect(decide(policy, pause(31), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(policy, pause(32), none, NOW)).toEqual({ outcome: 'needs_approval', because: [{ limit: 'pause.auto_approve.max_days', message: "A pause of 32 days is longer than the 31 days this merchant's policy approves without staff." }] });
    });

    it('is refused beyond max_days and past the pauses a customer may have in 365 days', () => {
      expect(decide(policy, pause(91), none, NOW)).toEqual({ outcome: 'refused', reason: "Pauses longer than 90 days are not allowed by this merchant's policy." });
      expect(decide(policy, pause(10), { ...none, pause: 1 }, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(policy, pause(10), { ...none, pause: 2 }, NOW)).toEqual({ outcome: 'refused', reason: "This merchant's policy allows at most 2 pauses per customer in 365 days, and this customer has had 2 already." });
    });

    it('needs a staff approval past the auto-approved count', () => {
      const counted = { pause: { ...ISSUE_EXAMPLE.pause, auto_approve: { max_days: 31, max_per_customer_per_365_days: 1 } } } as ActionsPolicy;
      expect(limits(decide(counted, pause(10), { ...none, pause: 1 }, NOW))).toEqual(['pause.auto_approve.max_per_customer_per_365_days']);
    });
  });

  describe('plan change', () => {
    const change = (amount_due_now: number, currency = 'usd'): ActionRequest => ({ kind: 'plan_change', amount_due_now, currency });

    it('auto-approves small charges and downgrades, waits for staff above, refuses above max_amount', () => {
      expect(decide(policy, change(10000), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(policy, change(-2500), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(limits(decide(policy, change(10001), none, NOW))).toEqual(['plan_change.auto_approve.max_amount.usd']);
      expect(limits(decide(policy, change(100, 'jpy'), none, NOW))).toEqual(['plan_change.auto_approve.max_amount.jpy']);
      expect(decide(policy, change(50001), none, NOW)).toEqual({ outcome: 'refused', reason: "Plan changes above $500.00 are not allowed by this merchant's policy." });
      expect(decide(policy, change(100), { ...none, plan_change: 2 }, NOW)).toMatchObject({ outcome: 'refused' });
      expect(limits(decide(policy, change(100), { ...none, plan_change: 1 }, NOW))).toEqual(['plan_change.auto_approve.max_per_customer_per_30_days']);
    });
  });

  describe('retry payment', () => {
    const retry = (amount: number, currency = 'usd'): ActionRequest => ({ kind: 'retry_payment', amount, currency });

    it('with only enabled: any amount, at once after the confirmation (the customer pays what they owe)', () => {
      const open = { retry_payment: { enabled: true } } as ActionsPolicy;
      expect(decide(open, retry(4900), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(open, retry(99_999_999, 'jpy'), { ...none, retry_payment: 50 }, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(open, retry(0), none, NOW)).toEqual({ outcome: 'refused', reason: 'There is nothing to pay on this invoice.' });
      expect(decide({ retry_payment: { enabled: false } } as ActionsPolicy, retry(4900), none, NOW)).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^Payment attempts cannot be requested here/) });
    });

    it('refuses above max_amount, in a currency it does not name and past the count; waits for staff past auto_approve', () => {
      const capped = { retry_payment: { enabled: true, max_amount: { usd: 10000 }, max_per_customer_per_30_days: 3, auto_approve: { max_amount: { usd: 5000 }, max_per_customer_per_30_days: 1 } } } as ActionsPolicy;
      expect(decide(capped, retry(4900), none, NOW)).toEqual({ outcome: 'auto_approve' });
      expect(decide(capped, retry(10001), none, NOW)).toEqual({ outcome: 'refused', reason: "Payment attempts above $100.00 are not allowed by this merchant's policy." });
      expect(decide(capped, retry(100, 'eur'), none, NOW)).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^Payment attempts in EUR are not allowed/) });
      expect(decide(capped, retry(100), { ...none, retry_payment: 3 }, NOW)).toEqual({ outcome: 'refused', reason: "This merchant's policy allows at most 3 payment attempts per customer in 30 days, and this customer has had 3 already." });
      expect(limits(decide(capped, retry(5001), none, NOW))).toEqual(['retry_payment.auto_approve.max_amount.usd']);
      expect(limits(decide(capped, retry(100), { ...none, retry_payment: 1 }, NOW))).toEqual(['retry_payment.auto_approve.max_per_customer_per_30_days']);
    });
  });

  it('refuses every action the policy leaves out or switches off, and everything without a policy', () => {
    const off = { refund: { enabled: false }, pause: { ...ISSUE_EXAMPLE.pause, enabled: false } } as ActionsPolicy;
    expect(decide(off, refund(), none, NOW)).toEqual({ outcome: 'refused', reason: "Refunds cannot be requested here: this merchant's policy does not allow them. The merchant's support team can help." });
    expect(decide(off, { kind: 'pause', days: 1 }, none, NOW)).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^Subscription pauses cannot be requested here/) });
    expect(decide(off, { kind: 'credit', amount: 1, currency: 'usd' }, none, NOW)).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^Account credits cannot be requested here/) });
    expect(decide(undefined, { kind: 'plan_change', amount_due_now: 0, currency: 'usd' }, none, NOW)).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^Plan changes cannot be requested here/) });
  });
});

describe('stripe-billing-mcp policy', () => {
  it('--schema prints a JSON Schema that accepts the issue example and rejects what start-up rejects', async () => {
    const run = await runCli(['policy', '--schema']);
    expect(run.code).toBe(0);
    const schema = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(ISSUE_EXAMPLE)).toBe(true);
    expect(validate({ ...ISSUE_EXAMPLE, plan_change: PLAN_CHANGE, $schema: './policy.schema.json' })).toBe(true);
    for (const bad of [
      exampleWith(['refund', 'auto_approve', 'max_amount', 'usd'], 49.5),
      exampleWith(['refund', 'max_amount'], { USD: 1 }),
      exampleWith(['refund', 'auto_aprove'], {}),
      exampleWith(['refunds'], {}),
      exampleWith(['pause', 'behavior'], undefined),
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('--check says what a valid file turns on, and lists each problem of a bad one (exit 1)', async () => {
    const good = await runCli(['policy', '--check', policyFile(ISSUE_EXAMPLE)]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('is a valid actions policy');
    expect(good.stdout).toContain('refund: on — up to $200.00, payments up to 30 days old, reasons duplicate, requested_by_customer; without staff approval: up to $50.00, payments up to 14 days old, 1 per customer in 30 days');
    expect(good.stdout).toContain('credit: on — up to $50.00; every request needs a staff approval');
    expect(good.stdout).toContain('plan_change: off');

    const bad = await runCli(['policy', '--check', policyFile(exampleWith(['refund', 'auto_approve', 'max_amount', 'usd'], -5))]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a valid actions policy:\n  - refund.auto_approve.max_amount.usd must be a whole number of minor units ≥ 0');
  });

  it('without --schema or --check it says what it takes', async () => {
    const run = await runCli(['policy']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('policy needs --schema');
    expect((await runCli(['doctor', '--schema'])).stderr).toContain('--schema is for the policy command');
    expect((await runCli(['policy', '--help'])).stdout).toContain('Usage: stripe-billing-mcp policy --schema');
  });

  it('a server given a bad ACTIONS_POLICY does not start', async () => {
    const run = await runCli(['doctor', '--demo'], { ACTIONS_POLICY: policyFile(exampleWith(['pause', 'max_days'], 0)) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ACTIONS_POLICY: pause.max_days must be a whole number of days from 1 to 365');
  });

  it('runPolicyCommand refuses --schema with --check', () => {
    expect(() => runPolicyCommand({ schema: true, check: 'x.json' })).toThrow('not both');
  });
});

describe('doctor', () => {
  const stripe = useFakeStripe({ now: 1_790_000_000 });

  async function doctor(env: Record<string, string>): Promise<DoctorReport> {
    const settings = testSettings(env);
    // As the doctor command builds it: no tool call runs, so no actions engine (and no trail needed).
    const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, actions: false });
    try {
      return await runDoctor({ settings, runtime, tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }) });
    } finally {
      await runtime.store.close();
    }
  }
  const actionsRow = (report: DoctorReport) => report.checks.find((check) => check.id === 'actions')!;

  it('shows read-only without a policy', async () => {
    expect(actionsRow(await doctor({}))).toMatchObject({ status: 'off', detail: expect.stringMatching(/^no ACTIONS_POLICY: read-only/) });
  });

  it('shows the enabled actions, names the money-moving permissions it cannot check, and never calls those endpoints', async () => {
    const path = policyFile({ ...ISSUE_EXAMPLE, plan_change: { enabled: false } });
    const ready = await doctor({ ACTIONS_POLICY: path });
    expect(actionsRow(ready)).toMatchObject({
      status: 'warn',
      detail: 'enabled: refund, credit, pause; doctor does not check Refunds: Write (rak_refund_write) and Customer balance transactions: Write (rak_customer_balance_transaction_write): only a confirmed request calls those endpoints',
      affects: ['request_refund', 'request_credit', 'pause_subscription', 'resume_subscription'],
    });
    // Only the actions engine moves money: doctor sent no request to the refund or balance endpoints.
    const moneyMoving = stripe.fake().requests.filter((request) => request.method === 'POST' && /^\/v1\/(refunds|customers\/[^/]+\/balance_transactions)$/.test(request.path));
    expect(moneyMoving).toEqual([]);
    expect(Object.keys(ready.permissions)).not.toContain('rak_refund_write');

    // A probeable permission an enabled action lacks still fails the row, naming it.
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_subscription_write']);
    const lacking = await doctor({ ACTIONS_POLICY: path });
    const row = actionsRow(lacking);
    expect(row.status).toBe('fail');
    expect(row.detail).toBe('enabled: refund, credit, pause; pause lacks Subscriptions: Write (rak_subscription_write)');
    expect(row.fix).toMatch(/^Grant Subscriptions: Write \(rak_subscription_write\)/);
    expect(lacking.ok).toBe(false);
    expect(lacking.permissions).toMatchObject({ rak_subscription_write: 'missing' });
  });

  it('a payment retry without Invoices: Write is named, with its tool', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_invoice_write']);
    const row = actionsRow(await doctor({ ACTIONS_POLICY: policyFile({ retry_payment: { enabled: true } }) }));
    expect(row).toMatchObject({ status: 'fail', detail: 'enabled: retry_payment; retry_payment lacks Invoices: Write (rak_invoice_write)', affects: ['retry_payment'] });
  });

  it('a pause without Subscriptions: Write is named', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_subscription_write']);
    const row = actionsRow(await doctor({ ACTIONS_POLICY: policyFile({ pause: ISSUE_EXAMPLE.pause }) }));
    expect(row).toMatchObject({ status: 'fail', detail: 'enabled: pause; pause lacks Subscriptions: Write (rak_subscription_write)' });
  });
});

describe('platform tenants', () => {
  const ADMIN = 'admin_secret_for_actions_policy_tests_00';
  const KEY = 'rk_test_fake_actions_policy_0000000000000';
  const accounts = new FakeStripeAccounts();
  accounts.add(KEY, new FakeStripe({ now: 1_790_000_000 }));
  let platform: RunningPlatform;

  beforeAll(async () => {
    platform = await startPlatform({
      settings: testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 7).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db') }),
      log: silentLogger(),
      fetch: (input, init) => accounts.handle(new Request(input, init)),
    });
  });
  afterAll(async () => {
    await platform?.close();
  });

  async function connect(settings: unknown): Promise<{ status: number; body: { message?: string; tenant?: { settings: { actions?: unknown } } } }> {
    const response = await fetch(`${platform.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Acme', stripe_api_key: KEY, settings }),
    });
    return { status: response.status, body: (await response.json()) as never };
  }

  it("validates settings.actions with the same schema, naming the field under settings.actions", async () => {
    const bad = await connect({ actions: exampleWith(['refund', 'auto_approve', 'max_amount', 'usd'], 49.5) });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('settings.actions.refund.auto_approve.max_amount.usd must be a whole number of minor units ≥ 0');
    const unknown = await connect({ actions: exampleWith(['refunds'], {}) });
    expect(unknown.body.message).toContain('settings.actions.refunds is not an action of the policy');

    const good = await connect({ actions: ISSUE_EXAMPLE });
    expect(good.status).toBe(201);
    expect(good.body.tenant?.settings.actions).toEqual(ISSUE_EXAMPLE);
  });
});
