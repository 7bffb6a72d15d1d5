/**
 * The Claude Desktop extension (stripe-billing-mcp.mcpb, staff mode): its manifest passes
 * `mcpb validate` and names exactly the staff tools; scripts/pack-mcpb.mjs packs the built bundle
 * into a zip with no node_modules and no native module; and the server it holds starts the way
 * Claude Desktop starts it (the manifest's mcp_config, resolved by @anthropic-ai/mcpb's own code),
 * with the write tools only when the setting is on.
 */
import { getMcpConfigForManifest, hasRequiredConfigMissing } from '@anthropic-ai/mcpb/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOOLS, toolsForMode } from '../src/tools/registry.js';
import { cleanEnv } from './support/cli.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFEST_PATH = join(ROOT, 'mcpb', 'manifest.json');

type McpbManifestAny = Parameters<typeof getMcpConfigForManifest>[0]['manifest'];

interface Manifest {
  version: string;
  server: { type: string; entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  tools: Array<{ name: string; description: string }>;
  user_config: Record<string, { type: string; required?: boolean; sensitive?: boolean; default?: unknown }>;
}

async function mcpbCli(): Promise<string> {
  const info = JSON.parse(await readFile(join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'package.json'), 'utf8')) as { bin: string | { mcpb: string } };
  return join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', typeof info.bin === 'string' ? info.bin : info.bin.mcpb);
}

let manifest: Manifest;

beforeAll(async () => {
  manifest = JSON.parse(await readFile(MANIFEST_PATH, 'utf8')) as Manifest;
});

describe('mcpb/manifest.json', () => {
  it('passes `mcpb validate`', async () => {
    const { stdout } = await run(process.execPath, [await mcpbCli(), 'validate', MANIFEST_PATH]);
    expect(stdout).toContain('Manifest schema validation passes');
  });

  it('names exactly the staff-mode tools, in their order, and has the package version', async () => {
    const staffTools = toolsForMode(ALL_TOOLS, 'staff', false);
    expect(manifest.tools.map((tool) => tool.name)).toEqual(staffTools.map((tool) => tool.name));
    for (const tool of staffTools.filter((candidate) => candidate.write)) {
      expect(manifest.tools.find((entry) => entry.name === tool.name)?.description).toMatch(/only when enabled/);
    }
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toBe(pkg.version);
  });

  it('runs the server in staff mode with the key from a required, sensitive setting', () => {
    expect(manifest.server.mcp_config.args).toContain('--staff');
    expect(manifest.server.mcp_config.args).not.toContain('--demo');
    expect(manifest.user_config.stripe_api_key).toMatchObject({ type: 'string', required: true, sensitive: true });
    expect(manifest.user_config.write_tools).toMatchObject({ type: 'boolean', default: false });
    expect(manifest.server.mcp_config.env.STRIPE_API_KEY).toBe('${user_config.stripe_api_key}');
    // Claude Desktop does not start an extension whose required settings are missing.
    const asAny = manifest as unknown as McpbManifestAny;
    expect(hasRequiredConfigMissing({ manifest: asAny, userConfig: {} })).toBe(true);
    expect(hasRequiredConfigMissing({ manifest: asAny, userConfig: { stripe_api_key: 'rk_test_x' } })).toBe(false);
  });
});

describe('scripts/pack-mcpb.mjs', () => {
  let dir: string;
  let unpacked: string;
  let entries: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sbm-mcpb-test-'));
    const out = join(dir, 'stripe-billing-mcp.mcpb');
    // `npm test` has just built bundle/; `npm run pack:mcpb` would build again.
    await run(process.execPath, [join(ROOT, 'scripts', 'pack-mcpb.mjs'), out], { cwd: ROOT });
    const bytes = await readFile(out);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04])); // a zip
    unpacked = join(dir, 'unpacked');
    await run(process.execPath, [await mcpbCli(), 'unpack', out, unpacked]);
    entries = (await readdir(unpacked, { recursive: true })).map((entry) => entry.split(sep).join('/'));
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs the manifest, the icon and the bundle, with no node_modules, native module or source map', async () => {
    expect(entries).toEqual(expect.arrayContaining(['manifest.json', 'LICENSE', 'icon.png', 'server/index.js', 'server/cli.js', 'server/package.json']));
    expect(entries.some((entry) => entry.startsWith('server/chunks/'))).toBe(true);
    expect(entries.filter((entry) => /(^|\/)node_modules(\/|$)|\.node$|\.map$/.test(entry))).toEqual([]);
    expect(JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8'))).toEqual(manifest);
  });

  for (const writeTools of [false, true]) {
    it(`starts as Claude Desktop starts it, ${writeTools ? 'with' : 'without'} the write tools`, async () => {
      const config = await getMcpConfigForManifest({
        manifest: manifest as unknown as McpbManifestAny,
        extensionPath: unpacked,
        systemDirs: {},
        pathSeparator: sep,
        userConfig: { stripe_api_key: 'rk_test_mcpb_extension_test_0000', write_tools: writeTools },
      });
      expect(config?.command).toBe('node');
      expect(config?.env).toEqual({ STRIPE_API_KEY: 'rk_test_mcpb_extension_test_0000', MCPB_WRITE_TOOLS: String(writeTools) });
      // Claude Desktop runs `node` with its own Node; --demo keeps the test off the network.
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [...config!.args!, '--demo'],
        env: cleanEnv({ ...config!.env, LOG_LEVEL: 'silent' }),
        stderr: 'ignore',
      });
      const client = new Client({ name: 'mcpb-test', version: '1.0.0' });
      await client.connect(transport);
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        const staffTools = toolsForMode(ALL_TOOLS, 'staff', false);
        expect(names).toEqual(staffTools.filter((tool) => writeTools || !tool.write).map((tool) => tool.name));
        const result = await client.callTool({ name: 'get_subscription_status', arguments: { email: 'alice@example.com' } });
        expect(result.isError).toBeFalsy();
        expect(JSON.stringify(result.structuredContent)).toContain('$49.00 per month');
      } finally {
        await client.close();
      }
    });
  }
});
