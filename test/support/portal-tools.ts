/**
 * Shared setup for the portal-link tools' tests (cancel_subscription, get_billing_portal_link):
 * one call per fresh MCP session, and what the fake Stripe saw of billing portal sessions.
 */
import type Stripe from 'stripe';
import type { FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { connectClient, type Who } from './mcp-harness.js';

export type FlowData = Stripe.BillingPortal.SessionCreateParams.FlowData;

/** The flow_data a recorded request sent. */
export const flowOf = (request: { params: Record<string, unknown> }) => request.params.flow_data as FlowData;

/** Calls `tool` once in a fresh session as `who` (with `env`), and reads the fake's portal sessions and POSTs. */
export function portalTool(tool: string, stripe: { fake(): FakeStripe }) {
  return {
    async call(who: Who, args: Record<string, unknown> = {}, env: Record<string, string> = {}) {
      const session = await connectClient(who, { env });
      try {
        return await session.call(tool, args);
      } finally {
        await session.close();
      }
    },
    portalPosts: () => stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing_portal/sessions'),
    sessions: () => [...stripe.fake().store.portalSessions.values()],
  };
}
