import { z } from 'zod';
import type { ActionRequest } from '../actions/requests.js';
import { ToolError } from '../errors.js';
import { quoted } from '../format/untrusted-text.js';
import { actionsOf, requestViewSchema, viewRequest } from './lib/action-requests.js';
import { day } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';
import { matching, optionalInput } from './lib/schemas.js';

/** One answer for "no such request" and "another customer's request", so ids cannot be probed. */
export const REQUEST_NOT_FOUND_MESSAGE = "No request with that id was found on this customer's account. Call get_request_status without an id to list their requests.";

/** Enough for every request a customer makes in months; older ones are in the panel. */
const MAX_REQUESTS = 20;

export default defineTool({
  name: 'get_request_status',
  title: 'Status of refund, credit and pause requests',
  description:
    "The customer's refund, credit, pause and resume requests, newest first: their state (waiting for the customer's confirmation or the merchant's approval, done, denied, failed, expired, canceled) and, once decided, the outcome or the reason. Use for 'did my refund go through'. Read-only.",
  audience: 'customer',
  card: 'request',
  // Listed whenever the merchant's policy turns any action on (registry.ts).
  action: 'any',
  discloses: ['refunds', 'credit_balance', 'subscription'],
  permissions: ['rak_customer_read'],
  inputSchema: {
    request: optionalInput(matching(z.string().trim(), /^req_[A-Za-z0-9_-]{1,64}$/, 'a request id looks like req_…')).describe('One request (req_…); null for all of them.'),
  },
  outputSchema: { requests: z.array(requestViewSchema), summary: z.string() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const engine = actionsOf(ctx);
    const target = await ctx.customer();
    const ids = new Set(target.customers.map((customer) => customer.id));
    const staff = ctx.principal.kind === 'staff';
    // A request is this customer's when it is about one of their records, in this merchant's account.
    const theirs = (request: ActionRequest | undefined): request is ActionRequest => request !== undefined && request.tenant_id === engine.tenantId && ids.has(request.customer_id);
    let requests: ActionRequest[];
    if (input.request) {
      const request = await engine.requests.get(input.request);
      if (!theirs(request)) throw new ToolError('not_found', REQUEST_NOT_FOUND_MESSAGE);
      requests = [request];
    } else {
      const lists = await Promise.all([...ids].map((id) => engine.requests.listForCustomer(engine.tenantId, id, MAX_REQUESTS)));
      requests = lists
        .flat()
        .sort((a, b) => b.created_at.localeCompare(a.created_at))
        .slice(0, MAX_REQUESTS);
    }
    const views = requests.map((request) => viewRequest(request, { staff }));
    const summary = views.length === 0 ? 'No requests.' : `${views.length} request${views.length === 1 ? '' : 's'}, newest first.`;
    return { requests: views, summary };
  },
  summarize(output) {
    // Each request with its id (for a follow-up question); what happens next is said once for the
    // requests it is the same for (every request waiting for the person says the same thing).
    const byNext = new Map<string, string[]>();
    for (const request of output.requests) byNext.set(request.next, [...(byNext.get(request.next) ?? []), request.id]);
    const lines = output.requests.map((request) => {
      const outcome = [request.stripe_object_id ? `Done: ${request.stripe_object_id}.` : '', request.failure_reason ?? '', request.note ? `Merchant's note: ${quoted(request.note)}.` : ''].filter(Boolean).join(' ');
      const next = byNext.get(request.next)!.length === 1 ? ` ${request.next}` : '';
      return `- ${request.id} ${day(request.created_at)} ${request.kind} (${request.state}): ${request.preview.summary}.${outcome ? ` ${outcome}` : ''}${next}`;
    });
    const shared = [...byNext].filter(([, ids]) => ids.length > 1).map(([next, ids]) => `${ids.join(', ')}: ${next}`);
    return [output.summary, ...lines, ...shared].join('\n');
  },
});
