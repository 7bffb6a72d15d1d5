import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { ROUTE_PERMISSIONS } from '../src/demo/fake-stripe/permissions.js';
import { REDACT_PATHS } from '../src/log.js';
import { PERMISSIONS as PERMISSION_LABELS } from '../src/stripe/permission-probes.js';
import { createRuntime } from '../src/runtime.js';
import { BILLING_TOOLS } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { sampleArgs } from './support/tool-args.js';
import { budgetFor, connectClient, errorText, structured, TEST_STRIPE_KEY, testSettings } from './support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });
const PERMISSIONS = [...new Set(Object.values(ROUTE_PERMISSIONS))].sort();
// This runtime has no actions policy: the action tools are not listed, so not called here.
const READ_ONLY_DEFAULT = BILLING_TOOLS.filter((tool) => tool.action === undefined);

/** Who calls each tool, with what, so that the tool does all of its work (resend actually sends). */
function callFor(tool: string): { email: string; args: Record<string, unknown> } {
  if (tool === 'resend_invoice') return { email: DEMO.emails.dave, args: { invoice: DEMO.invoices.daveSendInvoice } };
  // alice has no failed payment: carol's past-due plan uses every section (reason, plan name, portal link).
  if (tool === 'get_payment_problem') return { email: DEMO.emails.carol, args: {} };
  // The portal home reads nothing optional; the cancel page names the plan and reads what cancelling does.
  if (tool === 'get_billing_portal_link') return { email: DEMO.emails.alice, args: { purpose: 'cancel' } };
  return { email: DEMO.emails.alice, args: sampleArgs(tool) };
}

function capturingRuntime() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  const runtime = createRuntime({ settings: testSettings({ WRITE_TOOLS: 'all' }), log, maxNetworkRetries: 0, ...budgetFor({}) });
  return { runtime, lines };
}

/**
 * Each tool declares the restricted-key permissions it needs and those that only add a section
 * (the doctor and the start-up probe rely on both lists). Deny one permission at a time: exactly
 * the tools that need it answer "not available", those for which it is optional answer with a
 * notice naming it, and every other tool works as usual.
 */
describe.each(PERMISSIONS)('a restricted key without %s', (permission) => {
  it('makes exactly the tools that declare it answer "not available", naming the permission only in the log', async () => {
    const { runtime, lines } = capturingRuntime();
    stripe.fake().restrictKey(TEST_STRIPE_KEY, [permission]);
    for (const tool of READ_ONLY_DEFAULT) {
      const { email, args } = callFor(tool.name);
      const session = await connectClient({ customer: email }, { runtime, env: { WRITE_TOOLS: 'all' } });
      const result = await session.call(tool.name, args);
      await session.close();
      if (tool.permissions.includes(permission)) {
        expect(result.isError, `${tool.name} should need ${permission}`).toBe(true);
        const text = errorText(result);
        expect(text).toMatch(/not available/);
        expect(text).not.toContain('rak_');
      } else {
        expect(result.isError, `${tool.name} failed without ${permission}: ${JSON.stringify(result.content)}`).toBeFalsy();
        const notices = (result.structuredContent as { notices?: string[] } | undefined)?.notices ?? [];
        const label = PERMISSION_LABELS[permission]?.label ?? permission;
        if (tool.optionalPermissions && permission in tool.optionalPermissions) {
          expect(notices.join('\n'), `${tool.name} should say what it left out without ${permission}`).toContain(`“${label}”`);
        } else {
          expect(notices, `${tool.name} does not use ${permission}`).toEqual([]);
        }
      }
    }
    const users = READ_ONLY_DEFAULT.filter((tool) => tool.permissions.includes(permission));
    if (users.length > 0) expect(lines.join('')).toContain(`"permission":"${permission}"`);
    expect(lines.join('')).not.toContain(TEST_STRIPE_KEY);
  });
});

/**
 * Item 10 of issue 20: a permission that only adds a section never hides or fails a tool. The
 * section is left out with a notice naming the permission (Dashboard name, never `rak_…`), in
 * the structured answer and in the text the model reads.
 */
describe('a key without a permission that only adds a section', () => {
  const grantOnly = (...granted: string[]) => stripe.fake().restrictKey(TEST_STRIPE_KEY, PERMISSIONS.filter((permission) => !granted.includes(permission)));
  const textOf = (result: Awaited<ReturnType<Awaited<ReturnType<typeof connectClient>>['call']>>) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
  async function call(tool: string) {
    const session = await connectClient({ customer: DEMO.emails.alice });
    try {
      return await session.call(tool, {});
    } finally {
      await session.close();
    }
  }
  interface StatusAnswer {
    subscriptions: Array<{ id: string; plan: string; next_payment?: { breakdown?: unknown } }>;
    notices?: string[];
  }

  it('customers and subscriptions read alone: get_subscription_status answers, plan named by its price, with a notice for the next-payment breakdown', async () => {
    grantOnly('rak_customer_read', 'rak_subscription_read');
    const result = await call('get_subscription_status');
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const answer = structured<StatusAnswer>(result);
    const alice = answer.subscriptions.find((sub) => sub.id === DEMO.subscriptions.alice)!;
    // No product read: the price's nickname names the plan.
    expect(alice.plan).toBe('Pro monthly');
    expect(alice.next_payment?.breakdown).toBeUndefined();
    const notices = answer.notices ?? [];
    expect(notices.some((notice) => notice.includes('Invoices: Read') && /next payment/i.test(notice))).toBe(true);
    expect(notices.some((notice) => notice.includes('Products: Read'))).toBe(true);
    const text = textOf(result);
    expect(text.split('\n').some((line) => line.includes('Invoices: Read'))).toBe(true);
    expect(text).not.toContain('rak_');
  });

  it('a BubblaV-like key (no prices or coupons read): the subscription, overview and billing tools answer, discounts left out with a notice', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_price_read', 'rak_coupon_read']);
    for (const tool of ['get_subscription_status', 'get_customer_overview', 'get_billing_info', 'cancel_subscription']) {
      const result = await call(tool);
      expect(result.isError, `${tool}: ${JSON.stringify(result.content)}`).toBeFalsy();
      expect(textOf(result)).not.toContain('rak_');
    }
    const status = structured<StatusAnswer>(await call('get_subscription_status'));
    expect(status.subscriptions.find((sub) => sub.id === DEMO.subscriptions.alice)!.plan).toBe('Pro');
    expect((status.notices ?? []).some((notice) => notice.includes('Coupons: Read'))).toBe(true);
  });

  it('get_billing_info without payment methods read: billing details answer, card details left out with a notice', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_payment_method_read']);
    const result = await call('get_billing_info');
    const answer = structured<{ billing_accounts: Array<{ email?: string; default_payment_method: { description: string } }>; notices?: string[] }>(result);
    expect(answer.billing_accounts[0]!.email).toBe(DEMO.emails.alice);
    expect(JSON.stringify(answer.billing_accounts)).not.toContain('4242');
    expect((answer.notices ?? []).some((notice) => notice.includes('PaymentMethods: Read'))).toBe(true);
  });
});
