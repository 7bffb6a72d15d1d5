/**
 * The demo's actions policy (`serve --demo` without ACTIONS_POLICY; the user's own file wins):
 * the issue's example, so `npm run demo` shows every path of a request — alice's duplicate
 * charge ($44.00, within auto_approve) is refunded as soon as she confirms, a credit always waits
 * for a staff approval, a pause up to 31 days needs none.
 */
import { parseActionsPolicy, type ActionsPolicy } from '../actions/policy.js';

/** The example of issue 22, word for word, as a merchant's policy file would say it (the tests use it too). */
export const ISSUE_EXAMPLE_POLICY = {
  refund: {
    enabled: true,
    reasons: ['duplicate', 'requested_by_customer'],
    max_age_days: 30,
    max_amount: { usd: 20000 },
    auto_approve: { max_amount: { usd: 5000 }, max_age_days: 14, max_per_customer_per_30_days: 1 },
  },
  credit: { enabled: true, max_amount: { usd: 5000 }, auto_approve: { max_amount: { usd: 0 } } },
  pause: { enabled: true, max_days: 90, behavior: 'void', max_per_customer_per_365_days: 2, auto_approve: { max_days: 31 } },
};

/** Parsed by the same schema as a merchant's file, so the demo cannot drift from what a file may say. */
export function demoActionsPolicy(): ActionsPolicy {
  const parsed = parseActionsPolicy(ISSUE_EXAMPLE_POLICY);
  if (!parsed.ok) throw new Error(`the demo's actions policy is invalid: ${parsed.problems.join('; ')}`);
  return parsed.policy;
}
