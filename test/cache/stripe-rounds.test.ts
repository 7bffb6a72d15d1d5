import { describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime } from '../../src/runtime.js';
import { runTool } from '../../src/tools/lib/run-tool.js';
import { ALL_TOOLS as REGISTERED_TOOLS } from '../../src/tools/registry.js';
import { customerPrincipal, staffPrincipal } from '../../src/verify/principal.js';
import { testSettings } from '../support/mcp-harness.js';
import { sampleArgs } from '../support/tool-args.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const ALL_TOOLS = REGISTERED_TOOLS.filter((tool) => tool.action === undefined);

interface Timed {
  path: string;
  start: number;
  end: number;
}

/** The longest chain of Stripe requests where each starts only after the previous one answered. */
function sequentialRounds(requests: readonly Timed[]): number {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const chain = sorted.map(() => 1);
  for (let i = 0; i < sorted.length; i++) for (let j = 0; j < i; j++) if (sorted[j]!.end <= sorted[i]!.start) chain[i] = Math.max(chain[i]!, chain[j]! + 1);
  return Math.max(0, ...chain);
}

function recordingRuntime(env: Record<string, string> = {}) {
  const fake = new FakeStripe({ now: 1_790_000_000 });
  const requests: Timed[] = [];
  const runtime = createRuntime({
    settings: testSettings(env),
    log: silentLogger(),
    maxNetworkRetries: 0,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const timed: Timed = { path: new URL(request.url).pathname, start: performance.now(), end: 0 };
      // A little latency, so requests in one round overlap and rounds are told apart.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const response = await fake.handle(request);
      timed.end = performance.now();
      requests.push(timed);
      return response;
    },
  });
  return { runtime, requests };
}

const READ_TOOLS = ALL_TOOLS.filter((tool) => tool.audience !== 'verification' && !tool.write && !tool.portal);

describe('Stripe requests per answer', () => {
  it.each(READ_TOOLS.map((tool) => tool.name))('%s: at most 2 sequential rounds cold, none warm (alice: two records)', async (name) => {
    const tool = READ_TOOLS.find((t) => t.name === name)!;
    const { runtime, requests } = recordingRuntime();
    const call = () => runTool(tool, sampleArgs(name), { runtime, principal: customerPrincipal(DEMO.emails.alice, 'identity-token'), mode: 'customer', conversation: 'c1', surface: 'stdio' });
    expect((await call()).ok).toBe(true);
    expect(requests.length).toBeGreaterThan(0);
    expect(sequentialRounds(requests), requests.map((r) => r.path).join(' ')).toBeLessThanOrEqual(2);
    requests.length = 0;
    const warm = await call();
    expect(warm.ok).toBe(true);
    expect(requests).toEqual([]);
  });

  it('staff asking about a customer by email reuse what the customer’s own questions cached, and the reverse', async () => {
    const tool = ALL_TOOLS.find((t) => t.name === 'get_customer_overview')!;
    const { runtime, requests } = recordingRuntime();
    const asCustomer = await runTool(tool, {}, { runtime, principal: customerPrincipal(DEMO.emails.carol, 'identity-token'), mode: 'customer', conversation: 'c1', surface: 'stdio' });
    requests.length = 0;
    const asStaff = await runTool(tool, { email: DEMO.emails.carol }, { runtime, principal: staffPrincipal('support'), mode: 'staff', surface: 'stdio' });
    expect(requests).toEqual([]);
    expect(asStaff).toEqual(asCustomer);
  });
});
