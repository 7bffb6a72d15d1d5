/**
 * The action tools over MCP: listed only when the merchant's policy turns their action on; the
 * confirmation travels in `_meta` for the host's card, never in what the model reads; and a
 * client that declares form elicitation is asked directly, so the person's answer confirms (or
 * cancels) the request within the same tool call.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import type { ActionsPolicy } from '../../src/actions/policy.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { CONFIRMATION_META_KEY, createMcpServer } from '../../src/server.js';
import { ALL_TOOLS } from '../../src/tools/registry.js';
import { customerPrincipal } from '../../src/verify/principal.js';
import { actionsFixtures, ALICE, EXAMPLE_POLICY, type ActionsFixture } from '../support/actions.js';
import { storedRequests } from '../support/action-tools.js';

const fixture = actionsFixtures();
let fx: ActionsFixture | undefined;
const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
  await fx?.close();
  fx = undefined;
});

const ACTION_TOOL_NAMES = ['request_refund', 'request_credit', 'pause_subscription', 'resume_subscription', 'get_request_status'];

/** A real MCP client on the fixture's runtime; `answer`: the person's reply to an elicitation (the client then declares form elicitation). */
async function connect(f: ActionsFixture, options: { answer?: ElicitResult; asked?: string[] } = {}) {
  const server = createMcpServer({
    tools: ALL_TOOLS,
    runtime: f.runtime,
    mode: 'customer',
    resolvePrincipal: async () => customerPrincipal(ALICE, 'identity-token'),
    conversation: 'mcp-conversation',
    elicitation: true,
  });
  const client = new Client({ name: 'test-client', version: '1.0.0' }, options.answer ? { capabilities: { elicitation: { form: {} } } } : {});
  if (options.answer) {
    const answer = options.answer;
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      options.asked?.push(request.params.message);
      return answer;
    });
  }
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  closing.push(async () => {
    await client.close();
    await server.close();
  });
  return {
    names: async () => (await client.listTools()).tools.map((tool) => tool.name),
    call: async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult,
  };
}

/** What the model reads of a result: everything but `_meta`. */
const forModel = (result: CallToolResult) => JSON.stringify({ content: result.content, structuredContent: result.structuredContent, isError: result.isError });

describe('action tools over MCP', () => {
  it.each<[string, ActionsPolicy | undefined, string[]]>([
    ['no policy (read-only default)', undefined, []],
    ['refunds only', { refund: EXAMPLE_POLICY.refund }, ['request_refund', 'get_request_status']],
    ['pauses only', { pause: EXAMPLE_POLICY.pause }, ['pause_subscription', 'resume_subscription', 'get_request_status']],
    ['the example policy', EXAMPLE_POLICY, ACTION_TOOL_NAMES],
  ])('lists the action tools the policy turns on: %s', async (_label, policy, expected) => {
    fx = await fixture({ policy });
    const names = await (await connect(fx)).names();
    expect(names.filter((name) => ACTION_TOOL_NAMES.includes(name)).sort()).toEqual([...expected].sort());
    // The read tools stay.
    expect(names).toContain('get_payment_history');
  });

  it('without elicitation: the confirmation is in _meta only, never in content or structuredContent', async () => {
    fx = await fixture();
    const client = await connect(fx);
    const result = await client.call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' });
    expect(result.isError).toBeFalsy();
    const handoff = result._meta?.[CONFIRMATION_META_KEY] as { token: string; request_id: string } | undefined;
    expect(handoff).toBeDefined();
    const { secret, requestId } = parseConfirmationToken(handoff!.token)!;
    expect(forModel(result)).not.toContain(secret);
    expect((result.structuredContent as { request: { id: string; state: string } }).request).toMatchObject({ id: requestId, state: 'awaiting_confirmation' });

    // Calling a tool with the token changes nothing: the model has no confirming tool.
    const status = await client.call('get_request_status', { request: requestId });
    expect((status.structuredContent as { requests: Array<{ state: string }> }).requests[0]?.state).toBe('awaiting_confirmation');
    expect(forModel(status)).not.toContain(secret);
  });

  it('with form elicitation: the person confirms in their client and the refund is made in the same call', async () => {
    fx = await fixture();
    const asked: string[] = [];
    const client = await connect(fx, { answer: { action: 'accept', content: { confirm: true } }, asked });
    const result = await client.call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1500, reason: 'duplicate' });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/^Refund \$15\.00 of your \$44\.00 payment/);
    const request = (result.structuredContent as { request: { state: string; stripe_object_id?: string } }).request;
    expect(request.state).toBe('done');
    const refund = [...fx.fake.store.refunds.values()].find((item) => item.charge === DEMO.actions.aliceDuplicateCharge);
    expect(refund).toMatchObject({ amount: 1500, id: request.stripe_object_id });
    // Nothing left to hand off: the request is no longer waiting for a confirmation.
    expect(result._meta?.[CONFIRMATION_META_KEY]).toBeUndefined();
    const [stored] = await storedRequests(fx, DEMO.customers.alice);
    expect(stored?.confirmed_via).toBe('elicitation');
  });

  it('with form elicitation: the person declines and the request is canceled', async () => {
    fx = await fixture();
    const client = await connect(fx, { answer: { action: 'decline' } });
    const result = await client.call('pause_subscription', { subscription_id: null, days: 10 });
    expect((result.structuredContent as { request: { state: string } }).request.state).toBe('canceled');
    expect(fx.fake.store.subscriptions.get(DEMO.subscriptions.alice)?.pause_collection ?? null).toBeNull();
  });

  it('with form elicitation dismissed: the request waits, and the confirmation goes to _meta', async () => {
    fx = await fixture();
    const client = await connect(fx, { answer: { action: 'cancel' } });
    const result = await client.call('request_credit', { amount: 500, currency: null, reason: 'outage' });
    expect((result.structuredContent as { request: { state: string } }).request.state).toBe('awaiting_confirmation');
    const handoff = result._meta?.[CONFIRMATION_META_KEY] as { token: string } | undefined;
    expect(forModel(result)).not.toContain(parseConfirmationToken(handoff!.token)!.secret);
  });
});
