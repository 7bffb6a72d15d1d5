/**
 * Every auto_approve limit of every action stays within the action's own limit of the same name
 * (policy.ts checks them all in one loop, so an action added later gets the check too).
 */
import { describe, expect, it } from 'vitest';
import { creditPolicySchema, parseActionsPolicy, pausePolicySchema, planChangePolicySchema, refundPolicySchema, retryPaymentPolicySchema } from '../../src/actions/policy.js';

const SCHEMAS = { refund: refundPolicySchema, credit: creditPolicySchema, pause: pausePolicySchema, plan_change: planChangePolicySchema, retry_payment: retryPaymentPolicySchema };

/** A valid policy for each action, every auto_approve field at its limit. */
const AT_LIMITS = {
  refund: { enabled: true, reasons: ['duplicate'], max_age_days: 30, max_amount: { usd: 5000 }, max_per_customer_per_30_days: 2, auto_approve: { max_amount: { usd: 5000 }, max_age_days: 30, max_per_customer_per_30_days: 2 } },
  credit: { enabled: true, max_amount: { usd: 5000 }, auto_approve: { max_amount: { usd: 5000 } } },
  pause: { enabled: true, max_days: 90, behavior: 'void', max_per_customer_per_365_days: 2, auto_approve: { max_days: 90, max_per_customer_per_365_days: 2 } },
  plan_change: { enabled: true, max_amount: { usd: 5000 }, max_per_customer_per_30_days: 2, auto_approve: { max_amount: { usd: 5000 }, max_per_customer_per_30_days: 2 } },
  retry_payment: { enabled: true, max_amount: { usd: 5000 }, max_per_customer_per_30_days: 2, auto_approve: { max_amount: { usd: 5000 }, max_per_customer_per_30_days: 2 } },
} as const;

describe('auto_approve within the action’s limits', () => {
  it('each action’s auto_approve fields are limits the action itself has, and every one is set in AT_LIMITS', () => {
    for (const [action, schema] of Object.entries(SCHEMAS)) {
      const auto = schema.shape.auto_approve.unwrap().shape;
      for (const field of Object.keys(auto)) expect(Object.keys(schema.shape), `${action}.${field}`).toContain(field);
      expect(Object.keys(AT_LIMITS[action as keyof typeof SCHEMAS].auto_approve).sort(), action).toEqual(Object.keys(auto).sort());
    }
  });

  it('at the limits the policy is valid', () => {
    expect(parseActionsPolicy(AT_LIMITS)).toMatchObject({ ok: true });
  });

  const beyond = Object.entries(AT_LIMITS).flatMap(([action, policy]) =>
    Object.entries(policy.auto_approve).map(([field, value]) => {
      const limit = (policy as Record<string, unknown>)[field];
      const over = typeof value === 'number' ? value + 1 : { usd: 5001 };
      const message = typeof value === 'number' ? `${action}.auto_approve.${field} must be at most ${action}.${field} (${String(limit)})` : `${action}.auto_approve.max_amount.usd must be at most ${action}.max_amount.usd (5000)`;
      return [`${action}.auto_approve.${field}`, action, field, over, message] as const;
    }),
  );

  it.each(beyond)('%s one above its limit is refused', (_name, action, field, over, message) => {
    const policy = AT_LIMITS[action as keyof typeof AT_LIMITS];
    expect(parseActionsPolicy({ [action]: { ...policy, auto_approve: { ...policy.auto_approve, [field]: over } } })).toEqual({ ok: false, problems: [message] });
  });
});
