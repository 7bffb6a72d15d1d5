// A Vercel AI SDK agent that reaches stripe-billing-mcp over MCP (Streamable HTTP).
//   npm install ai @ai-sdk/mcp @ai-sdk/openai
//   BILLING_URL=http://127.0.0.1:8787 BILLING_HOST_KEY=… CUSTOMER_TOKEN=… OPENAI_API_KEY=… \
//     node vercel-ai-mcp.mjs "What plan am I on?"
// OPENAI_BASE_URL (any OpenAI-compatible endpoint) and OPENAI_MODEL are optional.
import { randomUUID } from 'node:crypto';
import { createMCPClient } from '@ai-sdk/mcp';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs } from 'ai';

const billingUrl = (process.env.BILLING_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const hostKey = process.env.BILLING_HOST_KEY;
if (!hostKey) throw new Error('Set BILLING_HOST_KEY to one of the server\'s HOST_KEYS secrets.');
const question = process.argv[2] ?? 'What plan am I on, and when is my next payment?';

// The server is stateless: these headers go with every MCP request, so they are the whole
// identity of the chat. Open one client per visitor chat, never one shared by all visitors.
const mcp = await createMCPClient({
  transport: {
    type: 'http',
    url: `${billingUrl}/mcp`,
    headers: {
      authorization: `Bearer ${hostKey}`,
      // One random id per chat: a visitor without a token can verify by emailed code, and that
      // verification belongs to this id. Never a counter or an email.
      'x-conversation-id': randomUUID(),
      // Who the visitor is comes from your backend (a JWT it signs for the logged-in user),
      // never from the model: the customer tools take no email.
      ...(process.env.CUSTOMER_TOKEN ? { 'x-customer-token': process.env.CUSTOMER_TOKEN } : {}),
    },
  },
});

try {
  // `.chat()`: Chat Completions, which any OpenAI-compatible OPENAI_BASE_URL speaks;
  // `openai(model)` would use OpenAI's Responses API instead.
  const openai = createOpenAI(); // reads OPENAI_API_KEY and OPENAI_BASE_URL
  const { text } = await generateText({
    model: openai.chat(process.env.OPENAI_MODEL ?? 'gpt-5.4-mini'),
    // The server's instructions say how to read its answers (money, dates, quoted values).
    system: `You are a billing support assistant. ${mcp.instructions ?? ''}`,
    prompt: question,
    // The MCP tools run here, in this process: the SDK calls the server and hands the model
    // each tool's text content.
    tools: await mcp.tools(),
    // Up to 6 model calls, so that a confused model cannot loop forever.
    stopWhen: stepCountIs(6),
  });
  console.log(text);
} finally {
  await mcp.close();
}
