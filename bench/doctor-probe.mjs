// The start-up probe (and `doctor`'s Stripe part): how many Stripe requests it makes and how long
// it takes when each Stripe request costs STRIPE_LATENCY_MS, for the default tools and for every
// tool. It should be one parallel round: about one latency, whatever the number of permissions.
// Run: npm run bench:probe   (RUNS=7, STRIPE_LATENCY_MS=80,250 by default)
import { FakeStripe } from '../dist/demo/fake-stripe/index.js';
import { probeStripeCapabilities } from '../dist/stripe/capabilities.js';
import { createStripeClient } from '../dist/stripe/client.js';
import { capabilityNeeds } from '../dist/tools/lib/tool-availability.js';
import { selectTools } from '../dist/tools/registry.js';

const runs = Number(process.env.RUNS ?? 7);
const latencies = (process.env.STRIPE_LATENCY_MS ?? '80,250').split(',').map(Number);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const rows = [];
for (const latency of latencies) {
  for (const [label, writeTools] of [['default tools', []], ['every tool (WRITE_TOOLS=all)', ['all']]]) {
    const tools = selectTools({ allowlist: [], writeTools });
    const needs = capabilityNeeds(tools);
    const times = [];
    let requests = 0;
    for (let i = 0; i < runs; i++) {
      const fake = new FakeStripe();
      const { stripe } = createStripeClient({
        apiKey: 'rk_test_fake_bench_00000000000000',
        fetch: async (input, init) => {
          await sleep(latency);
          return fake.handle(new Request(input, init));
        },
      });
      const started = performance.now();
      await probeStripeCapabilities(stripe, needs);
      times.push(performance.now() - started);
      requests = fake.requests.length;
    }
    rows.push({ 'Stripe latency ms': latency, tools: label, permissions: needs.permissions.length, 'Stripe requests': requests, 'median ms': Math.round(median(times)), 'max ms': Math.round(Math.max(...times)) });
  }
}
console.table(rows);
