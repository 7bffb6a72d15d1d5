/**
 * tools/list is answered by our own handler (src/server.ts), from entries the bundle carries,
 * made at build time (scripts/esbuild-prebuilt-tool-list.mjs): a client must see exactly what the
 * MCP SDK's own handler would list for the same registrations, in src and in the built bundle.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP_RESOURCE_MIME_TYPE, APPS_EXTENSION_ID } from '../src/apps/billing-card.js';
import { prebuiltToolList } from '../src/server.js';
import { toolRegistration } from '../src/tool-listing.js';
import { ALL_TOOLS, APP_TOOLS } from '../src/tools/registry.js';
import { cleanEnv } from './support/cli.js';

const BUNDLE_CLI = fileURLToPath(new URL('../bundle/cli.js', import.meta.url));
const EVERY_TOOL = [...ALL_TOOLS, ...APP_TOOLS];

/**
 * What the SDK's own tools/list handler lists for these tools, registered as src/server.ts
 * registers them, less the two members ours leaves to the client's defaults (src/server.ts
 * `listedTool`): the input schema's `$schema`, and `execution: { taskSupport: 'forbidden' }`.
 */
async function sdkList(mode: 'customer' | 'staff', names: readonly string[]): Promise<Record<string, Tool>> {
  const listed = await sdkOwnList(mode, names);
  for (const tool of Object.values(listed)) {
    expect(tool.inputSchema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(tool.execution).toEqual({ taskSupport: 'forbidden' });
    delete tool.inputSchema.$schema;
    delete tool.execution;
  }
  return listed;
}

async function sdkOwnList(mode: 'customer' | 'staff', names: readonly string[]): Promise<Record<string, Tool>> {
  const server = new McpServer({ name: 'sdk-reference', version: '1.0.0' });
  for (const name of names) {
    const tool = EVERY_TOOL.find((candidate) => candidate.name === name);
    if (!tool) throw new Error(`no tool ${name}`);
    server.registerTool(tool.name, toolRegistration(tool, mode), () => ({ content: [] }));
  }
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'tool-listing-test', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  try {
    const { tools } = await client.listTools();
    return Object.fromEntries(tools.map((tool) => [tool.name, tool]));
  } finally {
    await client.close();
  }
}

/** tools/list as the built bundle answers it over stdio, on the demo account, to a client that renders cards or not. */
async function bundleList(args: string[], apps: boolean): Promise<Record<string, Tool>> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BUNDLE_CLI, ...args], env: cleanEnv({ LOG_LEVEL: 'silent' }), stderr: 'ignore' });
  const capabilities = { extensions: { [APPS_EXTENSION_ID]: { mimeTypes: [APP_RESOURCE_MIME_TYPE] } } };
  const client = new Client({ name: 'tool-listing-test', version: '1.0.0' }, apps ? { capabilities } : {});
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return Object.fromEntries(tools.map((tool) => [tool.name, tool]));
  } finally {
    await client.close();
  }
}

describe('the listed tools are what the MCP SDK would list', () => {
  for (const mode of ['customer', 'staff'] as const) {
    it(`every ${mode} tool's entry, schemas included, as our conversion makes it for the bundle`, async () => {
      const ours = prebuiltToolList()[mode];
      expect(Object.keys(ours).length).toBeGreaterThan(10);
      expect(ours).toEqual(await sdkList(mode, Object.keys(ours)));
    });
  }

  for (const [label, args] of [
    ['customer', ['--demo']],
    ['staff', ['--demo', '--staff']],
  ] as const) {
    it(`the built bundle's tools/list (${label}) equals the SDK's for the same tools`, async () => {
      const listed = await bundleList([...args], true);
      expect(listed.get_subscription_status?.inputSchema.type).toBe('object');
      expect(listed).toEqual(await sdkList(label, Object.keys(listed)));
    });

    it(`the built bundle's tools/list (${label}) to a client that renders no cards is the SDK's without the card's _meta`, async () => {
      const listed = await bundleList([...args], false);
      const withoutMeta = Object.fromEntries(Object.entries(await sdkList(label, Object.keys(listed))).map(([name, { _meta, ...tool }]) => [name, tool]));
      expect(Object.values(listed).some((tool) => tool._meta !== undefined)).toBe(false);
      expect(listed).toEqual(withoutMeta);
    });
  }
});
