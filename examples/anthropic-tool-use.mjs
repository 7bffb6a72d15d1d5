// One chatbot turn with Anthropic tool use over stripe-billing-mcp's plain JSON API.
//   npm install @anthropic-ai/sdk
//   BILLING_URL=http://127.0.0.1:8787 BILLING_HOST_KEY=… CUSTOMER_TOKEN=… ANTHROPIC_API_KEY=… \
//     node anthropic-tool-use.mjs "What plan am I on?"
// ANTHROPIC_BASE_URL and ANTHROPIC_MODEL are optional.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';

const billingUrl = (process.env.BILLING_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const hostKey = process.env.BILLING_HOST_KEY;
if (!hostKey) throw new Error('Set BILLING_HOST_KEY to one of the server\'s HOST_KEYS secrets.');
const question = process.argv[2] ?? 'What plan am I on, and when is my next payment?';

const headers = {
  authorization: `Bearer ${hostKey}`,
  // One random id per chat (keep it for the chat's later turns): a visitor without a token can
  // verify by emailed code, and that verification belongs to this id. Never a counter or an email.
  'x-conversation-id': randomUUID(),
  // Who the visitor is comes from your backend (a JWT it signs for the logged-in user), never
  // from the model: the customer tools take no email, so the model cannot ask about anyone else.
  ...(process.env.CUSTOMER_TOKEN ? { 'x-customer-token': process.env.CUSTOMER_TOKEN } : {}),
};

/** Runs one tool; returns a tool_result's content and whether it is a refusal. */
async function callTool(name, input) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${billingUrl}/v1/tools/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    // 429 is a rate limit, not an answer: wait as told, once, before giving up on the call.
    if (response.status === 429 && attempt === 1) {
      await new Promise((done) => setTimeout(done, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    // 401/403: this bot's key is wrong, which the model cannot fix.
    if (response.status === 401 || response.status === 403) throw new Error(`billing server refused the host key (${response.status})`);
    const body = await response.json();
    // `text` is written for the model (amounts formatted, Stripe's free text quoted as data);
    // `result` is the same answer as JSON, for your own UI (cards, links).
    if (body.is_error === false) return { content: body.text, is_error: false };
    // Refusals ("verify your email first", "no subscription") are for the model to explain.
    return { content: body.error?.message ?? body.message, is_error: true };
  }
}

const catalog = await fetch(`${billingUrl}/v1/tools?format=anthropic`, { headers }).then((r) => r.json());
if (!catalog.tools) throw new Error(`GET /v1/tools: ${catalog.message ?? 'no tools'}`);
const anthropic = new Anthropic(); // reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL

/** The model's answer to the visitor, after as many tool calls as it needs (bounded, so that a confused model cannot loop forever). */
async function answer(question) {
  // The server's instructions say how to read its answers (money, dates, quoted values).
  const system = `You are a billing support assistant. ${catalog.instructions}`;
  const messages = [{ role: 'user', content: question }];
  for (let step = 0; step < 6; step++) {
    const model = process.env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-6';
    const reply = await anthropic.messages.create({ model, max_tokens: 1024, system, tools: catalog.tools, messages });
    messages.push({ role: 'assistant', content: reply.content });
    if (reply.stop_reason !== 'tool_use') return reply.content.filter((block) => block.type === 'text').map((block) => block.text).join('\n');
    // Every tool_use gets its tool_result, all in the next user message, as the API requires.
    const results = [];
    for (const block of reply.content.filter((block) => block.type === 'tool_use')) {
      results.push({ type: 'tool_result', tool_use_id: block.id, ...(await callTool(block.name, block.input)) });
    }
    messages.push({ role: 'user', content: results });
  }
  throw new Error('The model kept calling tools without answering.');
}

console.log(await answer(question));
