import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { tempDirAfterAll } from '../support/audit.js';
import { CLI_PATH, cleanEnv, runCli } from '../support/cli.js';

/**
 * stdio keeps no trail unless told where (AUDIT_DB): then a desktop session's calls are recorded,
 * and written before the process ends when the client closes it.
 */
const tempDir = tempDirAfterAll('sbm-stdio-trail-');

async function oneCall(env: Record<string, string>): Promise<void> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI_PATH, '--demo', '--staff'], env: cleanEnv({ LOG_LEVEL: 'silent', ...env }), stderr: 'ignore' });
  const client = new Client({ name: 'stdio-trail-test', version: '1.0.0' });
  await client.connect(transport);
  const result = await client.callTool({ name: 'get_credit_balance', arguments: { email: 'carol@example.com' } });
  expect(result.isError).toBeFalsy();
  await client.close();
}

describe('the trail over stdio', () => {
  it('with AUDIT_DB, the call is recorded as staff over stdio, written before the process exits', async () => {
    const file = join(tempDir(), 'desktop.db');
    await oneCall({ AUDIT_DB: file });
    const listed = await runCli(['audit', '--json'], { AUDIT_DB: file });
    expect(listed.code, listed.stderr).toBe(0);
    const { records } = JSON.parse(listed.stdout) as { records: Array<Record<string, unknown>> };
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ surface: 'stdio', caller: 'staff:stdio', principal: 'staff', tool: 'get_credit_balance', outcome: 'ok', email: 'carol@example.com' });
  });

  it('without AUDIT_DB, no trail is kept', async () => {
    const dir = tempDir();
    await oneCall({ XDG_DATA_HOME: dir });
    const listed = await runCli(['audit', '--json', '--demo'], { XDG_DATA_HOME: dir });
    // No demo wrote a trail, and reading it made none.
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('No demo trail yet');
    expect(listed.stdout).toBe('');
    expect(existsSync(join(dir, 'stripe-billing-mcp'))).toBe(false);
  });
});
