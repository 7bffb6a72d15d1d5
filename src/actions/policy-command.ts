/**
 * `stripe-billing-mcp policy --schema` prints the actions policy's JSON Schema (for editors and CI
 * checks); `policy --check FILE` validates one file the way ACTIONS_POLICY is validated at start
 * and says what it turns on. Needs no Stripe key and no other setting.
 */
import { ConfigurationError } from '../errors.js';
import { money } from '../format/money.js';
import { readPolicyFile } from './policy-file.js';
import { ACTION_KINDS, actionsPolicyJsonSchema, type ActionsPolicy } from './policy.js';

export interface PolicyCommandFlags {
  schema?: boolean | undefined;
  check?: string | undefined;
}

export interface PolicyCommandOutput {
  out(text: string): void;
  err(text: string): void;
}

const amounts = (record: Readonly<Record<string, number>>) =>
  Object.entries(record)
    .map(([currency, amount]) => money(amount, currency).formatted)
    .join(' / ');

/** One line per action: what it allows, and what needs no staff approval. */
export function describePolicy(policy: ActionsPolicy): string[] {
  return ACTION_KINDS.map((kind) => {
    const action = policy[kind];
    if (!action?.enabled) return `${kind}: off`;
    const limits: string[] = [];
    const auto: string[] = [];
    if ('max_amount' in action && action.max_amount) limits.push(`up to ${amounts(action.max_amount)}`);
    if (kind === 'refund' && policy.refund) {
      const refund = policy.refund;
      if (refund.max_age_days !== undefined) limits.push(`payments up to ${refund.max_age_days} days old`);
      if (refund.reasons) limits.push(`reasons ${refund.reasons.join(', ')}`);
      if (refund.max_per_customer_per_30_days !== undefined) limits.push(`${refund.max_per_customer_per_30_days} per customer in 30 days`);
      if (refund.auto_approve?.max_age_days !== undefined) auto.push(`payments up to ${refund.auto_approve.max_age_days} days old`);
      if (refund.auto_approve?.max_per_customer_per_30_days !== undefined) auto.push(`${refund.auto_approve.max_per_customer_per_30_days} per customer in 30 days`);
    }
    if (kind === 'pause' && policy.pause) {
      const pause = policy.pause;
      if (pause.max_days !== undefined) limits.push(`up to ${pause.max_days} days`);
      if (pause.behavior) limits.push(`invoices meanwhile: ${pause.behavior}`);
      if (pause.max_per_customer_per_365_days !== undefined) limits.push(`${pause.max_per_customer_per_365_days} per customer in 365 days`);
      if (pause.auto_approve?.max_days !== undefined) auto.push(`up to ${pause.auto_approve.max_days} days`);
      if (pause.auto_approve?.max_per_customer_per_365_days !== undefined) auto.push(`${pause.auto_approve.max_per_customer_per_365_days} per customer in 365 days`);
    }
    if (kind === 'plan_change' && policy.plan_change?.max_per_customer_per_30_days !== undefined) limits.push(`${policy.plan_change.max_per_customer_per_30_days} per customer in 30 days`);
    if (kind === 'plan_change' && policy.plan_change?.auto_approve?.max_per_customer_per_30_days !== undefined) auto.push(`${policy.plan_change.auto_approve.max_per_customer_per_30_days} per customer in 30 days`);
    const autoApprove = action.auto_approve;
    const autoAmounts = autoApprove && 'max_amount' in autoApprove ? autoApprove.max_amount : undefined;
    if (autoAmounts) auto.unshift(`up to ${amounts(autoAmounts)}`);
    // A refund or credit of 0 is no request: auto_approve amounts of 0 approve nothing.
    const approvesNothing = (kind === 'refund' || kind === 'credit') && autoAmounts !== undefined && Object.values(autoAmounts).every((amount) => amount === 0);
    const approval = !autoApprove || approvesNothing ? 'every request needs a staff approval' : auto.length > 0 ? `without staff approval: ${auto.join(', ')}` : 'no staff approval within these limits';
    return `${kind}: on — ${limits.join(', ')}; ${approval}`;
  });
}

/** Exit code: 0 printed or valid, 1 the file is not a valid policy. Misuse throws ConfigurationError (exit 2). */
export function runPolicyCommand(flags: PolicyCommandFlags, output: PolicyCommandOutput = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }): number {
  if (flags.schema && flags.check !== undefined) throw new ConfigurationError('policy takes --schema or --check FILE, not both.');
  if (flags.schema) {
    output.out(`${JSON.stringify(actionsPolicyJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (flags.check === undefined || flags.check === '') {
    throw new ConfigurationError('policy needs --schema (print the JSON Schema) or --check FILE (validate a policy). Run stripe-billing-mcp policy --help.');
  }
  const read = readPolicyFile(flags.check);
  if (!read.ok) {
    output.err(`${flags.check} is not a valid actions policy:\n${read.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    return 1;
  }
  output.out(`${flags.check} is a valid actions policy.\n${describePolicy(read.policy).map((line) => `  ${line}`).join('\n')}\n`);
  return 0;
}
