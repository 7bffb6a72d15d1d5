import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Scripted stand-ins for model APIs on loopback, speaking each provider's real wire format, so
 * that the examples run with the providers' own SDKs: the first request gets a call of one
 * tool, and once a request carries that tool's result, the answer is a text that quotes it.
 */
export interface ModelStandIn {
  /** What to give the SDK as its base URL. */
  baseURL: string;
  /** Every request the SDK sent, in order. */
  requests: Array<{ path: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }>;
  /** The tool results the SDK handed back, as the model would read them. */
  toolResults: string[];
  /** Names of the tools each request offered the model. */
  offeredTools: string[][];
  close(): Promise<void>;
}

export const FINAL_ANSWER_PREFIX = 'From your billing account: ';

type Reply = (body: Record<string, unknown>, stand: ModelStandIn) => unknown;

async function startStandIn(path: string, basePath: string, reply: Reply): Promise<ModelStandIn> {
  const stand: ModelStandIn = { baseURL: '', requests: [], toolResults: [], offeredTools: [], close: async () => {} };
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      stand.requests.push({ path: request.url ?? '', headers: request.headers, body });
      const ok = request.method === 'POST' && request.url === path;
      response.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(ok ? reply(body, stand) : { error: { type: 'not_found', message: `stand-in serves POST ${path} only` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stand.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`;
  stand.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return stand;
}

/** Text a model would read from a tool result: a string, text blocks, or text blocks sent as a JSON string. */
function textOf(content: unknown): string {
  if (typeof content === 'string') {
    try {
      const parsed: unknown = JSON.parse(content);
      if (Array.isArray(parsed)) return textOf(parsed);
    } catch {
      // plain text
    }
    return content;
  }
  if (Array.isArray(content)) return content.map((block: { text?: unknown }) => (typeof block.text === 'string' ? block.text : '')).join('\n');
  return JSON.stringify(content);
}

type ChatMessage = { role: string; content?: unknown };
type ChatTool = { function?: { name?: string } };

/** OpenAI Chat Completions (`POST /v1/chat/completions`), as the `openai` SDK and `@ai-sdk/openai`'s `.chat()` send it. */
export function startOpenAIChatStandIn(toolName: string): Promise<ModelStandIn> {
  return startStandIn('/v1/chat/completions', '/v1', (body, stand) => {
    const offered = ((body.tools as ChatTool[] | undefined) ?? []).map((tool) => tool.function?.name ?? '');
    stand.offeredTools.push(offered);
    const results = ((body.messages as ChatMessage[] | undefined) ?? []).filter((message) => message.role === 'tool').map((message) => textOf(message.content));
    const message =
      results.length > 0
        ? { role: 'assistant', content: FINAL_ANSWER_PREFIX + results.at(-1), refusal: null }
        : offered.includes(toolName)
          ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_standin_1', type: 'function', function: { name: toolName, arguments: '{}' } }] }
          : { role: 'assistant', content: `I was offered no ${toolName} tool.`, refusal: null };
    stand.toolResults.push(...results.slice(stand.toolResults.length));
    return {
      id: `chatcmpl-standin-${stand.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: 'tool_calls' in message ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    };
  });
}

type AnthropicBlock = { type: string; content?: unknown };
type AnthropicMessage = { role: string; content: string | AnthropicBlock[] };

/** Anthropic Messages (`POST /v1/messages`), with tool_use and tool_result blocks. */
export function startAnthropicStandIn(toolName: string): Promise<ModelStandIn> {
  return startStandIn('/v1/messages', '', (body, stand) => {
    const offered = ((body.tools as Array<{ name?: string }> | undefined) ?? []).map((tool) => tool.name ?? '');
    stand.offeredTools.push(offered);
    const results = ((body.messages as AnthropicMessage[] | undefined) ?? [])
      .filter((message) => message.role === 'user' && Array.isArray(message.content))
      .flatMap((message) => (message.content as AnthropicBlock[]).filter((block) => block.type === 'tool_result'))
      .map((block) => textOf(block.content));
    stand.toolResults.push(...results.slice(stand.toolResults.length));
    const toolCall = results.length === 0 && offered.includes(toolName);
    return {
      id: `msg_standin_${stand.requests.length}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: toolCall
        ? [{ type: 'tool_use', id: 'toolu_standin_1', name: toolName, input: {} }]
        : [{ type: 'text', text: results.length > 0 ? FINAL_ANSWER_PREFIX + results.at(-1) : `I was offered no ${toolName} tool.` }],
      stop_reason: toolCall ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 20 },
    };
  });
}
