import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ALL_TOOLS } from '../src/tools/registry.js';
import { PERMISSIONS_BY_ROUTE } from '../src/demo/fake-stripe/permissions.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { connectClient, errorText, structured, TEST_STRIPE_KEY } from './support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

// Anything that only Stripe would say: its own messages, ids, permission names.
const UPSTREAM_TEXT = /rak_|acct_|req_|rk_test|Invalid API Key|Request rate limit|does not have the required permissions|api\.stripe\.com|No such/i;

const READ_TOOLS = ALL_TOOLS.filter((tool) => !tool.write).map((tool) => tool.name);
const ALICE = { customer: 'alice@example.com' } as const;

async function callAndRecover(inject: () => void, expected: RegExp) {
  const session = await connectClient(ALICE);
  try {
    for (const name of READ_TOOLS) {
      inject();
      const failed = (await session.call(name)) as CallToolResult;
      const text = errorText(failed);
      expect(text, name).toMatch(expected);
      expect(text, name).not.toMatch(UPSTREAM_TEXT);
    }
    // The same process keeps serving once Stripe recovers.
    stripe.fake().clearFailures?.();
    expect(structured(await session.call('get_subscription_status'))).toHaveProperty('subscriptions');
  } finally {
    await session.close();
  }
}

describe('every Stripe failure becomes a clean, safe isError result', () => {
  it.each([429, 500, 502, 503] as const)('HTTP %i from Stripe says "temporarily unavailable"', async (status) => {
    await callAndRecover(() => stripe.fake().failNext({ status, times: 50 }), /temporarily unavailable/);
  });

  it('a dropped connection says "temporarily unavailable"', async () => {
    await callAndRecover(() => stripe.fake().dropNext({ times: 50 }), /temporarily unavailable/);
  });

  it('a revoked key tells the model the merchant must fix the set-up', async () => {
    const session = await connectClient(ALICE);
    stripe.fake().revokeKey(TEST_STRIPE_KEY);
    for (const name of READ_TOOLS) {
      const text = errorText(await session.call(name));
      expect(text, name).toMatch(/merchant needs to check the Stripe key/);
      expect(text, name).not.toMatch(UPSTREAM_TEXT);
    }
    await session.close();
  });

  it('a missing permission says the information is not available, and logs which permission', async () => {
    const allPermissions = [...new Set(Object.values(PERMISSIONS_BY_ROUTE))];
    const session = await connectClient(ALICE);
    for (const permission of allPermissions.filter((name) => name !== 'rak_customer_read')) {
      stripe.fake().restrictKey(TEST_STRIPE_KEY, [permission]);
    }
    for (const name of READ_TOOLS.filter((tool) => tool !== 'get_available_plans')) {
      const result = await session.call(name);
      if (!result.isError) continue; // a tool may not need any of the denied permissions
      const text = errorText(result);
      expect(text, name).toMatch(/not available/);
      expect(text, name).not.toMatch(UPSTREAM_TEXT);
    }
    await session.close();
  });
});
