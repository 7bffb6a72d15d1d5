/**
 * Each tool call's Stripe requests are charged to its own caller in the request budget, with no
 * AsyncLocalStorage: the call's `stripe` and `reads` carry its work. Two calls of different callers
 * running at the same moment must never have their requests charged to each other, and the
 * marker that carries the work must never reach Stripe.
 */
import { describe, expect, it } from 'vitest';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime } from '../../src/runtime.js';
import { loadInsight } from '../../src/http/insight.js';
import { answerWork, stripeFor } from '../../src/stripe/caller-context.js';
import { createRateBudget } from '../../src/stripe/create-rate-budget.js';
import { createToolContext } from '../../src/tools/lib/customer-target.js';
import { runTool } from '../../src/tools/lib/run-tool.js';
import { ALL_TOOLS } from '../../src/tools/registry.js';
import { createIdentityTokenVerifier } from '../../src/verify/identity-token.js';
import { testSettings } from '../support/mcp-harness.js';

const SECRET = 'caller-per-call-secret-at-least-32-bytes!';
const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name)!;

function chargingRuntime() {
  const fake = new FakeStripe({ now: Math.floor(Date.now() / 1000) });
  const settings = testSettings();
  const budget = createRateBudget(settings, 'per-call');
  const charged: { path: string; caller: string | undefined; background: boolean | undefined }[] = [];
  const acquire = budget.acquire.bind(budget);
  budget.acquire = (method, path, caller, work) => {
    charged.push({ path, caller, background: work?.background });
    return acquire(method, path, caller, work);
  };
  /** Requests that reached Stripe still carrying the work's marker header. */
  const leaked: string[] = [];
  const runtime = createRuntime({
    settings,
    log: silentLogger(),
    maxNetworkRetries: 0,
    budget,
    fetch: (input, init) => {
      const request = new Request(input, init);
      if (request.headers.has('x-sbm-work')) leaked.push(request.url);
      return fake.handle(request);
    },
  });
  return { runtime, charged, leaked };
}

describe('the Stripe request budget, per tool call', () => {
  it("charges the insight panel's Stripe reads to the staff member who asked", async () => {
    const { runtime, charged, leaked } = chargingRuntime();
    const insight = await loadInsight(runtime, 'support', { email: DEMO.emails.alice }, 'insight');
    expect(insight.status).toBe('found');
    expect(charged.length).toBeGreaterThan(3);
    expect(new Set(charged.map((request) => [request.caller, request.background].join(' ')))).toEqual(new Set(['staff:support false']));
    expect(leaked).toEqual([]);
  });

  it("charges a call made before the SDK behind the client has loaded to its caller, and Stripe never sees how", async () => {
    const { runtime, charged, leaked } = chargingRuntime();
    // The first use of this runtime's client: the SDK client is built by this very call.
    await stripeFor(runtime.stripe, answerWork('host:a')).customers.retrieve(DEMO.customers.alice);
    expect(charged).toEqual([{ path: `/v1/customers/${DEMO.customers.alice}`, caller: 'host:a', background: false }]);
    expect(leaked).toEqual([]);
  });

  it('charges two concurrent calls of different callers each to its own caller, and Stripe never sees how', async () => {
    const { runtime, charged, leaked } = chargingRuntime();
    const verifier = createIdentityTokenVerifier({ IDENTITY_SECRET: SECRET })!;
    const [alice, bob] = await Promise.all([verifier.verify(await mintIdentityToken(DEMO.emails.alice, SECRET, 600)), verifier.verify(await mintIdentityToken(DEMO.emails.bob, SECRET, 600))]);
    const ids = async (email: string) => (await runtime.reads.customersByEmail(email)).map((customer) => customer.id);
    const [aliceIds, bobIds] = await Promise.all([ids(DEMO.emails.alice), ids(DEMO.emails.bob)]);
    charged.length = 0;

    const call = (name: string, principal: typeof alice, caller: string) => runTool(tool(name), {}, { runtime, principal, mode: 'customer', conversation: caller, surface: 'mcp', caller });
    // Two tools of each caller at once: cached reads (ctx.reads) and their Stripe reads interleave.
    const outcomes = await Promise.all([
      call('get_customer_overview', alice, 'host:a'),
      call('get_customer_overview', bob, 'host:b'),
      call('get_payment_history', alice, 'host:a'),
      call('get_payment_history', bob, 'host:b'),
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true, true]);
    // Direct uses of the call's client (ctx.stripe, as writes and checks make) too.
    const contextOf = (principal: typeof alice, caller: string) => createToolContext(runtime, principal, undefined, caller, undefined, { caller, surface: 'mcp', handOff: () => undefined });
    await Promise.all([contextOf(alice, 'host:a').stripe.customers.retrieve(aliceIds[0]!), contextOf(bob, 'host:b').stripe.customers.retrieve(bobIds[0]!)]);

    const mentions = (path: string, customerIds: string[]) => customerIds.some((id) => path.includes(id));
    const aliceRequests = charged.filter((request) => mentions(request.path, aliceIds));
    const bobRequests = charged.filter((request) => mentions(request.path, bobIds));
    expect(aliceRequests.length).toBeGreaterThan(3);
    expect(bobRequests.length).toBeGreaterThan(3);
    expect(new Set(aliceRequests.map((request) => request.caller))).toEqual(new Set(['host:a']));
    expect(new Set(bobRequests.map((request) => request.caller))).toEqual(new Set(['host:b']));
    // Every request of these calls was some caller's answer: none went uncharged or as background.
    expect(charged.filter((request) => request.caller === undefined || request.background !== false)).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('charges nobody outside a call, and warming as background', async () => {
    const { runtime, charged } = chargingRuntime();
    runtime.reads.warm(DEMO.emails.carol);
    await runtime.reads.warmed();
    expect(charged.length).toBeGreaterThan(0);
    expect(charged.filter((request) => request.caller !== undefined || request.background !== true)).toEqual([]);
    charged.length = 0;
    await runtime.stripe.customers.list({ limit: 1 });
    expect(charged).toEqual([expect.objectContaining({ caller: undefined, background: undefined })]);
  });
});
