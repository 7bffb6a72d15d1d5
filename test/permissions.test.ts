import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { ROUTE_PERMISSIONS } from '../src/demo/fake-stripe/permissions.js';
import { REDACT_PATHS } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { BILLING_TOOLS } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { sampleArgs } from './support/tool-args.js';
import { budgetFor, connectClient, errorText, TEST_STRIPE_KEY, testSettings } from './support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });
const PERMISSIONS = [...new Set(Object.values(ROUTE_PERMISSIONS))].sort();

/** Who calls each tool, with what, so that the tool does all of its work (resend actually sends). */
function callFor(tool: string): { email: string; args: Record<string, unknown> } {
  if (tool === 'resend_invoice') return { email: DEMO.emails.dave, args: { invoice: DEMO.invoices.daveSendInvoice } };
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
 * Each tool declares the restricted-key permissions it needs (the doctor and the start-up
 * probe rely on that list). Deny one permission at a time: exactly the tools that declare it
 * answer "not available", and every other tool still works.
 */
describe.each(PERMISSIONS)('a restricted key without %s', (permission) => {
  it('makes exactly the tools that declare it answer "not available", naming the permission only in the log', async () => {
    const { runtime, lines } = capturingRuntime();
    stripe.fake().restrictKey(TEST_STRIPE_KEY, [permission]);
    for (const tool of BILLING_TOOLS) {
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
      }
    }
    const users = BILLING_TOOLS.filter((tool) => tool.permissions.includes(permission));
    if (users.length > 0) expect(lines.join('')).toContain(`"permission":"${permission}"`);
    expect(lines.join('')).not.toContain(TEST_STRIPE_KEY);
  });
});
