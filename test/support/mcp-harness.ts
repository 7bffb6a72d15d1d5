import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadSettings, type Settings } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime } from '../../src/runtime.js';
import { MemoryWindows, StripeRateBudget } from '../../src/stripe/rate-budget.js';
import { createMcpServer } from '../../src/server.js';
import type { ToolRuntime } from '../../src/tools/lib/context.js';
import type { AnyToolDefinition } from '../../src/tools/lib/define-tool.js';
import { ALL_TOOLS, selectTools } from '../../src/tools/registry.js';
import { resolveCustomerPrincipal } from '../../src/verify/customer-identity.js';
import { createOutboxMailer, type CodeMailer, type OutboxConfirmation, type OutboxMessage } from '../../src/verify/mailer.js';
import { customerPrincipal, staffPrincipal, UNVERIFIED, type Principal } from '../../src/verify/principal.js';
import type { Store } from '../../src/verify/store.js';

export const TEST_STRIPE_KEY = 'rk_test_fake_tests_0000000000000000';

export function testSettings(env: Record<string, string> = {}): Settings {
  return loadSettings({ STRIPE_API_KEY: TEST_STRIPE_KEY, LOG_LEVEL: 'silent', ...env });
}

/** A runtime on the msw-routed fake Stripe; retries off so failure tests see each failure. */
/** A mailer that keeps codes and action confirmation links in memory for the test to read (as the customer reads their inbox). */
export function testMailer(): CodeMailer & { messages: OutboxMessage[]; confirmations: OutboxConfirmation[] } {
  return createOutboxMailer({ merchantName: 'Test SaaS', print: () => {} });
}

/**
 * Tests that are not about Stripe's request budget are not throttled by it (suites make
 * hundreds of calls a second); those that are set STRIPE_RATE_LIMIT and get the real one.
 */
export function budgetFor(env: Record<string, string>): { budget?: StripeRateBudget } {
  if (env.STRIPE_RATE_LIMIT !== undefined) return {};
  return { budget: new StripeRateBudget(new MemoryWindows(), 'tests', { global: 100_000, endpoint: 100_000, search: 100_000, callerSharePercent: 100 }) };
}

export function testRuntime(env: Record<string, string> = {}, extra: { mailer?: CodeMailer; store?: Store } = {}): ToolRuntime {
  return createRuntime({ settings: testSettings(env), log: silentLogger(), maxNetworkRetries: 0, mailer: extra.mailer ?? testMailer(), ...(extra.store ? { store: extra.store } : {}), ...budgetFor(env) });
}

/** `visitor`: a chat visitor in that conversation, resolved from its verification grant on every call. */
export type Who = { customer: string } | { visitor: string } | 'staff' | 'unverified' | Principal;

function principalOf(who: Exclude<Who, { visitor: string }>): Principal {
  if (who === 'staff') return staffPrincipal('test');
  if (who === 'unverified') return UNVERIFIED;
  if ('customer' in who) return customerPrincipal(who.customer, 'identity-token');
  return who;
}

export interface ConnectedClient {
  client: Client;
  runtime: ToolRuntime;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A real MCP Client talking to our server over the SDK's in-memory transport. */
export async function connectClient(
  who: Who,
  options: { env?: Record<string, string>; tools?: readonly AnyToolDefinition[]; runtime?: ToolRuntime; conversation?: string } = {},
): Promise<ConnectedClient> {
  const runtime = options.runtime ?? testRuntime(options.env);
  const conversation = typeof who === 'object' && 'visitor' in who ? who.visitor : (options.conversation ?? 'test-conversation');
  const resolvePrincipal =
    typeof who === 'object' && 'visitor' in who
      ? () => resolveCustomerPrincipal({ token: undefined, verifier: undefined, grants: runtime.verification?.grants, conversation, log: runtime.log })
      : async () => principalOf(who);
  const mode = who === 'staff' || (typeof who === 'object' && 'kind' in who && who.kind === 'staff') ? 'staff' : 'customer';
  const settings = testSettings(options.env);
  const tools = options.tools ?? selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS.length ? settings.WRITE_TOOLS : ['all'] }, ALL_TOOLS);
  const server = createMcpServer({
    tools,
    runtime,
    mode,
    resolvePrincipal,
    conversation,
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  return {
    client,
    runtime,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** The structured result of a successful call, failing the test with the error text otherwise. */
export function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`tool returned an error: ${JSON.stringify(result.content)}`);
  if (!result.structuredContent) throw new Error('tool returned no structuredContent');
  return result.structuredContent as T;
}

export function errorText(result: CallToolResult): string {
  if (!result.isError) throw new Error(`expected an error result, got ${JSON.stringify(result.structuredContent)}`);
  const first = result.content[0];
  return first && first.type === 'text' ? first.text : '';
}

/** One call on a fresh connection, returning the structured result a client receives. */
export async function callOnce<T = Record<string, unknown>>(who: Who, tool: string, args: Record<string, unknown> = {}): Promise<T> {
  const session = await connectClient(who);
  try {
    return structured<T>(await session.call(tool, args));
  } finally {
    await session.close();
  }
}
