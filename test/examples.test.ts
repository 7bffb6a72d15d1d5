import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runNodeScript, type CliRun } from './support/cli.js';
import { startServeDemo, type ServedProcess } from './support/serve-process.js';
import { FINAL_ANSWER_PREFIX, startAnthropicStandIn, startOpenAIChatStandIn, type ModelStandIn } from './support/model-stand-ins.js';

/**
 * The chatbot examples in examples/, run as a platform developer would run them: against
 * `serve --demo`, with the settings its banner prints, and each provider's real SDK talking to a
 * scripted stand-in for the model API. The stand-in calls get_subscription_status, then answers
 * by quoting the tool result it was handed, so the printed answer holds the demo account's data
 * only if the example called the tool for the right visitor and handed the model its answer.
 */
const REPO = fileURLToPath(new URL('..', import.meta.url));
const MODEL_KEY = 'stand-in-model-key-0001';

interface Demo {
  served: ServedProcess;
  hostKey: string;
  customerToken: string;
}

/** The host key and alice's token, read from the banner as a developer trying the demo would. */
function readBanner(stdout: string): { hostKey: string; customerToken: string } {
  const hostKey = /^Host key:\s+(\S+)/m.exec(stdout)?.[1];
  const customerToken = /^Customer token for alice@example\.com[^\n]*:\n\s+(\S+)/m.exec(stdout)?.[1];
  if (!hostKey || !customerToken) throw new Error(`the demo banner no longer shows a host key and a customer token:\n${stdout}`);
  return { hostKey, customerToken };
}

function runExample(file: string, env: Record<string, string>): Promise<CliRun> {
  // A fresh home, so that no SDK picks up a developer's own credentials or config.
  const home = mkdtempSync(join(tmpdir(), 'sbm-example-home-'));
  return runNodeScript(join(REPO, 'examples', file), ['What plan am I on, and what will my next payment be?'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env },
    label: file,
  });
}

/** What the server answers alice's get_subscription_status with, asked directly. */
async function askDirectly(demo: Demo): Promise<{ text: string; plan: string; nextPayment: string }> {
  const response = await fetch(`${demo.served.url}/v1/tools/get_subscription_status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demo.hostKey}`, 'x-customer-token': demo.customerToken, 'content-type': 'application/json' },
    body: '{}',
  });
  const answer = (await response.json()) as { is_error: boolean; text: string; result: { subscriptions: Array<{ plan: string; next_payment?: { amount: { formatted: string } } }> } };
  expect(answer.is_error).toBe(false);
  const subscription = answer.result.subscriptions[0]!;
  return { text: answer.text, plan: subscription.plan, nextPayment: subscription.next_payment!.amount.formatted };
}

describe('the chatbot examples', () => {
  let demo: Demo;
  let expected: { text: string; plan: string; nextPayment: string };
  const stands: ModelStandIn[] = [];

  beforeAll(async () => {
    const served = await startServeDemo({});
    demo = { served, ...readBanner(served.stdout()) };
    expected = await askDirectly(demo);
  });
  afterAll(async () => {
    demo?.served.child.kill('SIGKILL');
    await demo?.served.exited;
  });
  afterEach(async () => {
    for (const stand of stands.splice(0)) await stand.close();
  });

  const billingEnv = () => ({ BILLING_URL: demo.served.url, BILLING_HOST_KEY: demo.hostKey, CUSTOMER_TOKEN: demo.customerToken });

  /** The answer printed holds the demo customer's plan and next payment, from the tool result the model was handed. */
  function expectAnswerFromAccount(run: CliRun, stand: ModelStandIn) {
    expect(run.code, run.stderr).toBe(0);
    // The model was handed the answer's `text`, not the JSON envelope or a refusal.
    expect(stand.toolResults).toEqual([expected.text]);
    expect(run.stdout.trim()).toBe(FINAL_ANSWER_PREFIX + expected.text);
    expect(run.stdout).toContain(expected.plan);
    expect(run.stdout).toContain(expected.nextPayment);
  }

  it('the demo account has a plan and a next payment to quote', () => {
    expect(expected.plan).toBe('Pro');
    expect(expected.nextPayment).toMatch(/^\$\d+\.\d\d$/);
  });

  it('openai-function-calling.mjs: the openai SDK calls a tool from GET /v1/tools?format=openai and answers from its result', async () => {
    const stand = await startOpenAIChatStandIn('get_subscription_status');
    stands.push(stand);
    const run = await runExample('openai-function-calling.mjs', { ...billingEnv(), OPENAI_API_KEY: MODEL_KEY, OPENAI_BASE_URL: stand.baseURL });
    expectAnswerFromAccount(run, stand);
    expect(stand.requests).toHaveLength(2);
    expect(stand.requests[0]!.headers.authorization).toBe(`Bearer ${MODEL_KEY}`);
    // Strict function definitions, so the model's arguments always match the schema.
    const tools = stand.requests[0]!.body.tools as Array<{ type: string; function: { name: string; strict?: boolean; parameters: { properties?: object } } }>;
    expect(tools.find((tool) => tool.function.name === 'get_subscription_status')).toMatchObject({ type: 'function', function: { strict: true } });
    // A host key gets the customer tools, which take no email (but the one that starts email
    // verification): the visitor comes from the token, never from the model.
    const takingEmail = tools.filter((tool) => 'email' in (tool.function.parameters.properties ?? {})).map((tool) => tool.function.name);
    expect(takingEmail).toEqual(['verify_email_start']);
    // The server's instructions (how to read money and quoted values) reach the model.
    const system = (stand.requests[0]!.body.messages as Array<{ role: string; content: string }>).find((message) => message.role === 'system');
    expect(system?.content).toContain('quote `formatted`');
  });

  it('openai-function-calling.mjs without a customer token: the model is handed the refusal to explain', async () => {
    const stand = await startOpenAIChatStandIn('get_subscription_status');
    stands.push(stand);
    const { CUSTOMER_TOKEN: _omitted, ...env } = billingEnv();
    const run = await runExample('openai-function-calling.mjs', { ...env, OPENAI_API_KEY: MODEL_KEY, OPENAI_BASE_URL: stand.baseURL });
    expect(run.code, run.stderr).toBe(0);
    expect(stand.toolResults).toHaveLength(1);
    expect(stand.toolResults[0]).toMatch(/^Error: .*verif/i);
    expect(run.stdout).not.toContain(expected.nextPayment);
  });

  it('anthropic-tool-use.mjs: the Anthropic SDK calls a tool from GET /v1/tools?format=anthropic and answers from its result', async () => {
    const stand = await startAnthropicStandIn('get_subscription_status');
    stands.push(stand);
    const run = await runExample('anthropic-tool-use.mjs', { ...billingEnv(), ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: stand.baseURL });
    expectAnswerFromAccount(run, stand);
    expect(stand.requests).toHaveLength(2);
    // The SDK sends the key as x-api-key or, in recent versions, as a bearer token.
    expect(stand.requests[0]!.headers['x-api-key'] ?? stand.requests[0]!.headers.authorization).toMatch(new RegExp(`^(Bearer )?${MODEL_KEY}$`));
    const tools = stand.requests[0]!.body.tools as Array<{ name: string; input_schema?: { type?: string } }>;
    expect(tools.find((tool) => tool.name === 'get_subscription_status')?.input_schema?.type).toBe('object');
    expect(stand.requests[0]!.body.system).toContain('quote `formatted`');
    // The tool_result answers the tool_use it belongs to, and is not marked as an error.
    const messages = stand.requests[1]!.body.messages as Array<{ role: string; content: unknown }>;
    expect(messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_standin_1', is_error: false }] });
  });

  it('vercel-ai-mcp.mjs: the Vercel AI SDK agent calls the tool over MCP and answers from its result', async () => {
    const stand = await startOpenAIChatStandIn('get_subscription_status');
    stands.push(stand);
    const run = await runExample('vercel-ai-mcp.mjs', { ...billingEnv(), OPENAI_API_KEY: MODEL_KEY, OPENAI_BASE_URL: stand.baseURL });
    expectAnswerFromAccount(run, stand);
    expect(stand.requests).toHaveLength(2);
    expect(stand.requests[0]!.headers.authorization).toBe(`Bearer ${MODEL_KEY}`);
    expect(stand.offeredTools[0]).toContain('get_subscription_status');
    // The server's instructions (how to read money and quoted values) reach the model.
    // (As a `developer` message: the AI SDK's role for system text to OpenAI's reasoning models.)
    const system = (stand.requests[0]!.body.messages as Array<{ role: string; content: string }>).find((message) => message.role === 'system' || message.role === 'developer');
    expect(system?.content).toContain('quote `formatted`');
  });
});
