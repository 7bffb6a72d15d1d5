// One chatbot turn with OpenAI function calling over stripe-billing-mcp's plain JSON API.
//   npm install openai
//   BILLING_URL=http://127.0.0.1:8787 BILLING_HOST_KEY=… CUSTOMER_TOKEN=… OPENAI_API_KEY=… \
//     node openai-function-calling.mjs "What plan am I on?"
// OPENAI_BASE_URL (any OpenAI-compatible endpoint) and OPENAI_MODEL are optional.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';

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

/** Runs one tool; returns the text to hand the model. */
async function callTool(name, argumentsJson) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${billingUrl}/v1/tools/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: argumentsJson, // strict mode: optional arguments arrive as null, which means "not given"
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
    if (body.is_error === false) return body.text;
    // Refusals ("verify your email first", "no subscription") are for the model to explain.
    return `Error: ${body.error?.message ?? body.message}`;
  }
}

const catalog = await fetch(`${billingUrl}/v1/tools?format=openai`, { headers }).then((r) => r.json());
if (!catalog.tools) throw new Error(`GET /v1/tools: ${catalog.message ?? 'no tools'}`);
const openai = new OpenAI(); // reads OPENAI_API_KEY and OPENAI_BASE_URL

/** The model's answer to the visitor, after as many tool calls as it needs (bounded, so that a confused model cannot loop forever). */
async function answer(question) {
  const messages = [
    // The server's instructions say how to read its answers (money, dates, quoted values).
    { role: 'system', content: `You are a billing support assistant. ${catalog.instructions}` },
    { role: 'user', content: question },
  ];
  for (let step = 0; step < 6; step++) {
    const completion = await openai.chat.completions.create({ model: process.env.OPENAI_MODEL ?? 'gpt-5.4-mini', messages, tools: catalog.tools });
    const message = completion.choices[0].message;
    messages.push(message);
    if (!message.tool_calls?.length) return message.content;
    for (const call of message.tool_calls) {
      messages.push({ role: 'tool', tool_call_id: call.id, content: await callTool(call.function.name, call.function.arguments) });
    }
  }
  throw new Error('The model kept calling tools without answering.');
}

console.log(await answer(question));
