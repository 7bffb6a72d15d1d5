import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import Stripe from 'stripe';
import { mapStripeError } from '../src/stripe/errors.js';
import { describe, expect, it } from 'vitest';
import { BILLING_TOOLS as REGISTERED_BILLING_TOOLS } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { connectClient, errorText, structured, TEST_STRIPE_KEY } from './support/mcp-harness.js';
import { sampleArgs } from './support/tool-args.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const BILLING_TOOLS = REGISTERED_BILLING_TOOLS.filter((tool) => tool.action === undefined);

const stripe = useFakeStripe({ now: 1_790_000_000 });

// Anything that only Stripe would say: its own messages, ids, permission names.
const UPSTREAM_TEXT = /rak_|acct_|req_|rk_test|Invalid API Key|Request rate limit|does not have the required permissions|api\.stripe\.com|No such/i;

const READ_TOOLS = BILLING_TOOLS.filter((tool) => !tool.write).map((tool) => tool.name);
const ALICE = { customer: 'alice@example.com' } as const;

async function callAndRecover(inject: () => void, expected: RegExp) {
  const session = await connectClient(ALICE);
  try {
    for (const name of READ_TOOLS) {
      inject();
      const failed = (await session.call(name, sampleArgs(name))) as CallToolResult;
      const text = errorText(failed);
      expect(text, name).toMatch(expected);
      expect(text, name).not.toMatch(UPSTREAM_TEXT);
    }
    // The same process keeps serving once Stripe recovers.
    stripe.fake().clearFailures();
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
      const text = errorText(await session.call(name, sampleArgs(name)));
      expect(text, name).toMatch(/merchant needs to check the Stripe key/);
      expect(text, name).not.toMatch(UPSTREAM_TEXT);
    }
    await session.close();
  });
});

describe('mapStripeError', () => {
  const raw = (extra: Record<string, unknown>) => ({ message: "No such customer: 'cus_Secret123'; request req_abc on acct_1Secret", ...extra });
  it.each([
    ['StripeInvalidRequestError 404', new Stripe.errors.StripeInvalidRequestError(raw({ type: 'invalid_request_error', statusCode: 404 })), 'not_found'],
    ['StripeInvalidRequestError 400', new Stripe.errors.StripeInvalidRequestError(raw({ type: 'invalid_request_error', statusCode: 400 })), 'internal'],
    ['StripeCardError', new Stripe.errors.StripeCardError(raw({ type: 'card_error', statusCode: 402 })), 'internal'],
    ['StripeAPIError', new Stripe.errors.StripeAPIError(raw({ type: 'api_error', statusCode: 500 })), 'temporarily_unavailable'],
    ['StripeAuthenticationError', new Stripe.errors.StripeAuthenticationError(raw({ type: 'authentication_error', statusCode: 401 })), 'configuration'],
    ['StripePermissionError', new Stripe.errors.StripePermissionError(raw({ type: 'invalid_request_error', statusCode: 403, message: "Having the 'rak_charge_read' permission would allow this request to continue." })), 'not_available'],
    ['StripeRateLimitError', new Stripe.errors.StripeRateLimitError(raw({ type: 'invalid_request_error', statusCode: 429 })), 'temporarily_unavailable'],
    ['StripeConnectionError', new Stripe.errors.StripeConnectionError(raw({ type: 'api_connection_error' })), 'temporarily_unavailable'],
    ['StripeIdempotencyError', new Stripe.errors.StripeIdempotencyError(raw({ type: 'idempotency_error', statusCode: 400 })), 'temporarily_unavailable'],
    ['a plain Error', new Error('socket hang up at 10.0.0.1'), 'internal'],
  ] as const)('%s becomes a safe %s error', (_name, error, kind) => {
    const mapped = mapStripeError(error, 'test');
    expect(mapped.kind).toBe(kind);
    expect(mapped.message).not.toMatch(/cus_Secret123|req_abc|acct_1Secret|rak_|10\.0\.0\.1|socket/);
  });

  it('keeps the upstream detail and permission for the log', () => {
    const mapped = mapStripeError(
      new Stripe.errors.StripePermissionError({ type: 'invalid_request_error', statusCode: 403, message: "Having the 'rak_charge_read' permission would allow this request to continue." }),
      'list charges',
    );
    expect(mapped.logDetail).toMatchObject({ operation: 'list charges', permission: 'rak_charge_read', statusCode: 403 });
  });
});

describe('a failure to resolve who is asking', () => {
  it('is a safe isError result, never the store error text', async () => {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
    const { createMcpServer } = await import('../src/server.js');
    const { testRuntime } = await import('./support/mcp-harness.js');
    const { StoreUnavailableError } = await import('../src/verify/redis-store.js');
    const server = createMcpServer({
      tools: BILLING_TOOLS,
      runtime: testRuntime(),
      mode: 'customer',
      resolvePrincipal: () => Promise.reject(new StoreUnavailableError('Redis store at redis://10.9.8.7:6379/ is unreachable: connect ECONNREFUSED 10.9.8.7:6379')),
      conversation: 'host:store-down',
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
    try {
      const text = errorText((await client.callTool({ name: 'get_subscription_status', arguments: {} })) as CallToolResult);
      expect(text).toMatch(/temporarily unavailable/);
      expect(text).not.toMatch(/redis|10\.9\.8\.7|ECONNREFUSED/i);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
