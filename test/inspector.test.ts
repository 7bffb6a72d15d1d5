/**
 * A real MCP client we did not write: the MCP Inspector's CLI (@modelcontextprotocol/inspector-cli)
 * drives the packed, installed server over stdio (staff mode) and over Streamable HTTP (`serve`,
 * customer mode with a host key and an identity token). Everything stays on loopback.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, mintIdentityToken } from '../src/demo/demo-identity.js';
import { demoActionsPolicy } from '../src/demo/actions-policy.js';
import type { RequestKind } from '../src/actions/requests.js';
import { ALL_TOOLS, toolsForMode } from '../src/tools/registry.js';
import { cleanEnv } from './support/cli.js';
import { addSqliteDriver, installPacked, type PackedInstall } from './support/packed.js';
import { findFreePort } from './support/redis-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INSPECTOR_DIR = join(ROOT, 'node_modules', '@modelcontextprotocol', 'inspector-cli');

interface ToolList {
  tools: Array<{ name: string; inputSchema: { properties?: Record<string, unknown> } }>;
}
interface ToolResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: unknown;
  isError?: boolean;
}
interface InspectorRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let inspectorBin: string;
let packed: PackedInstall | undefined;

/** `mcp-inspector-cli --cli …`: its own bin, as a user would run it. */
function inspector(args: string[], env: Record<string, string> = {}): Promise<InspectorRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [inspectorBin, '--cli', ...args],
      // inspector-cli 1.0.3 finds its package.json through `../package.json` relative to the
      // working directory (modelcontextprotocol/inspector#1334): run it from its build folder.
      // Its stdio transport hands its own environment to the server: keep that one clean.
      { cwd: join(INSPECTOR_DIR, 'build'), env: cleanEnv(env), timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

function parsed<T>(result: InspectorRun): T {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  const info = JSON.parse(await readFile(join(INSPECTOR_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  inspectorBin = join(INSPECTOR_DIR, info.bin['mcp-inspector-cli']!);
  packed = await installPacked();
  // As a full `npm install` leaves it: `serve` keeps its audit trail in SQLite.
  await addSqliteDriver(packed.app);
}, 120_000);

afterAll(async () => {
  await packed?.remove();
});

describe('the MCP Inspector CLI against the packed server', () => {
  describe('over stdio, staff mode on the demo account', () => {
    const server = () => [process.execPath, packed!.cli, '--demo', '--staff'];

    it('lists the staff tools (no write tools unless enabled)', async () => {
      const { tools } = parsed<ToolList>(await inspector([...server(), '--method', 'tools/list'], { LOG_LEVEL: 'silent' }));
      const expected = toolsForMode(ALL_TOOLS, 'staff', false).filter((tool) => !tool.write);
      expect(tools.map((tool) => tool.name)).toEqual(expected.map((tool) => tool.name));
      expect(Object.keys(tools.find((tool) => tool.name === 'get_subscription_status')!.inputSchema.properties ?? {})).toContain('email');
    });

    it('calls get_subscription_status for a customer by email', async () => {
      const result = parsed<ToolResult>(
        await inspector([...server(), '--method', 'tools/call', '--tool-name', 'get_subscription_status', '--tool-arg', 'email=alice@example.com'], { LOG_LEVEL: 'silent' }),
      );
      expect(result.isError).toBeFalsy();
      expect(result.content[0]?.text).toContain('"Pro" ($49.00 per month): active');
      expect(JSON.stringify(result.structuredContent)).toContain('sub_DemoAlicePro');
    });
  });

  describe('over Streamable HTTP, `serve --demo` on loopback', () => {
    let server: ChildProcess;
    let url: string;
    let headers: string[];

    beforeAll(async () => {
      const port = await findFreePort();
      url = `http://127.0.0.1:${port}`;
      server = spawn(process.execPath, [packed!.cli, 'serve', '--demo'], { env: cleanEnv({ PORT: String(port), LOG_LEVEL: 'warn' }), stdio: 'ignore' });
      const token = await mintIdentityToken('alice@example.com', DEMO_IDENTITY_SECRET);
      headers = ['--header', `Authorization: Bearer ${DEMO_HOST_KEY}`, '--header', `X-Customer-Token: ${token}`];
      for (const deadline = Date.now() + 15_000; (await fetch(`${url}/healthz`).catch(() => undefined))?.status !== 200; ) {
        if (Date.now() > deadline || server.exitCode !== null) throw new Error('serve --demo did not answer /healthz');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, 30_000);

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
    });

    it("lists the customer's tools, none of which can name another customer", async () => {
      const { tools } = parsed<ToolList>(await inspector([`${url}/mcp`, '--transport', 'http', '--method', 'tools/list', ...headers]));
      const billing = tools.filter((tool) => ALL_TOOLS.find((definition) => definition.name === tool.name)?.audience !== 'verification');
      // The demo's actions policy turns refunds, credits and pauses on: their tools are listed too.
      const policy = demoActionsPolicy();
      const demoActions = { enabled: (kind: RequestKind) => (kind === 'resume' ? policy.pause?.enabled : policy[kind]?.enabled) === true };
      expect(billing.map((tool) => tool.name)).toEqual(toolsForMode(ALL_TOOLS, 'customer', false, demoActions).filter((tool) => !tool.write).map((tool) => tool.name));
      for (const tool of billing) {
        const properties = Object.keys(tool.inputSchema.properties ?? {});
        expect(properties, tool.name).not.toContain('email');
        expect(properties, tool.name).not.toContain('customer_id');
      }
    });

    it("calls get_subscription_status for the token's customer", async () => {
      const result = parsed<ToolResult>(await inspector([`${url}/mcp`, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'get_subscription_status', ...headers]));
      expect(result.isError).toBeFalsy();
      expect(result.content[0]?.text).toContain('"Pro" ($49.00 per month): active');
    });

    it('is refused without a known host key', async () => {
      const result = await inspector([`${url}/mcp`, '--transport', 'http', '--method', 'tools/list', '--header', 'Authorization: Bearer not_a_host_key_000000000000000000']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('unauthorized');
      expect(result.stdout).not.toContain('get_subscription_status');
    });
  });
});
