import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../src/errors.js';
import { ALL_TOOLS, selectTools } from '../src/tools/registry.js';
import { connectClient } from './support/mcp-harness.js';

const WRITE_TOOLS = ['resend_invoice', 'apply_coupon'];
const TARGET_FIELDS = ['email', 'customer', 'customer_id', 'customerId', 'customer_email'];

describe('tools/list', () => {
  it('lists the whole catalogue of the design, each with schemas and annotations', async () => {
    expect(ALL_TOOLS.map((tool) => tool.name).sort()).toEqual(
      [
        'apply_coupon', 'cancel_subscription', 'get_available_plans', 'get_billing_info', 'get_billing_portal_link', 'get_credit_balance',
        'get_customer_overview', 'get_invoice_history', 'get_payment_history', 'get_subscription_status', 'get_upcoming_invoice', 'resend_invoice',
        'get_payment_problem', 'preview_plan_change',
        'verify_email_start', 'verify_email_confirm', 'get_verification_status',
        'request_refund', 'request_credit', 'pause_subscription', 'resume_subscription', 'request_plan_change', 'get_request_status',
        'retry_payment',
      ].sort(),
    );
    const session = await connectClient({ customer: 'alice@example.com' }, { env: { WRITE_TOOLS: 'all' } });
    const { tools } = await session.client.listTools();
    await session.close();
    // The action tools need an actions policy (test/actions/action-tools-mcp.test.ts lists them).
    expect(tools).toHaveLength(ALL_TOOLS.filter((tool) => tool.action === undefined).length);
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z]+(_[a-z]+)+$/);
      expect(tool.description!.length).toBeGreaterThan(40);
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.inputSchema.type).toBe('object');
      const definition = ALL_TOOLS.find((candidate) => candidate.name === tool.name)!;
      if (definition.audience !== 'verification') expect(tool.annotations?.readOnlyHint, tool.name).toBe(definition.write ? false : true);
    }
  });

  it('gives customer-mode tools no way to name a customer', async () => {
    const session = await connectClient({ customer: 'alice@example.com' }, { env: { WRITE_TOOLS: 'all' } });
    const { tools } = await session.client.listTools();
    await session.close();
    for (const tool of tools) {
      // verify_email_start takes the address to mail a code to: it names nobody until the code comes back.
      if (tool.name === 'verify_email_start') continue;
      const fields = Object.keys(tool.inputSchema.properties ?? {});
      for (const field of TARGET_FIELDS) expect(fields, `${tool.name} exposes ${field}`).not.toContain(field);
    }
  });

  it('lets staff choose the customer by email or customer_id on every tool, and has no verification tools', async () => {
    const session = await connectClient('staff', { env: { WRITE_TOOLS: 'all' } });
    const { tools } = await session.client.listTools();
    await session.close();
    expect(tools.map((tool) => tool.name)).not.toContain('verify_email_start');
    for (const tool of tools) {
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).toEqual(expect.arrayContaining(['email', 'customer_id']));
    }
  });

  it('leaves write tools out until WRITE_TOOLS enables them', async () => {
    const names = (env: Record<string, string>) => selectTools({ allowlist: split(env.TOOLS), writeTools: split(env.WRITE_TOOLS) }).map((tool) => tool.name);
    for (const tool of WRITE_TOOLS) expect(names({})).not.toContain(tool);
    expect(names({})).toEqual(expect.arrayContaining(['get_billing_portal_link', 'cancel_subscription', 'get_customer_overview']));
    expect(names({ WRITE_TOOLS: 'resend_invoice' })).toContain('resend_invoice');
    expect(names({ WRITE_TOOLS: 'resend_invoice' })).not.toContain('apply_coupon');
    // TOOLS is an allowlist: naming a write tool there is not enough.
    expect(names({ TOOLS: 'get_billing_info,apply_coupon' })).toEqual(['get_billing_info']);
    expect(names({ TOOLS: 'get_billing_info,apply_coupon', WRITE_TOOLS: 'apply_coupon' }).sort()).toEqual(['apply_coupon', 'get_billing_info']);
  });

  it('shows over MCP exactly the enabled tools', async () => {
    const session = await connectClient({ customer: 'alice@example.com' }, { tools: selectTools({ allowlist: ['get_invoice_history', 'get_billing_info'], writeTools: [] }) });
    const { tools } = await session.client.listTools();
    const refused = await session.client.callTool({ name: 'get_subscription_status', arguments: {} });
    await session.close();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['get_billing_info', 'get_invoice_history']);
    expect(refused.isError).toBe(true);
  });

  it('refuses unknown tool names in TOOLS or WRITE_TOOLS', () => {
    expect(() => selectTools({ allowlist: ['get_billing_info', 'delete_customer'], writeTools: [] })).toThrow(ConfigurationError);
    expect(() => selectTools({ allowlist: [], writeTools: ['refund_everything'] })).toThrow(/WRITE_TOOLS names unknown tools: refund_everything/);
  });
});

function split(value: string | undefined): string[] {
  return (value ?? '').split(',').filter(Boolean);
}
