import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStoreAsCli, staffLookUp, tempDirAfterAll } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { killedAfterEach, startServeDemo } from '../support/serve-process.js';

/**
 * After `npm run demo`, a newcomer runs `audit`. The demo's trail is kept apart from the real
 * one (one per demo port), `audit` says where it looked and how to read the demo's, reading
 * never creates a database, and `audit --demo` finds the latest demo's trail.
 */
const tempDir = tempDirAfterAll('sbm-audit-demo-');
const started = killedAfterEach();

async function demo(dataHome: string) {
  const served = await startServeDemo({ XDG_DATA_HOME: dataHome });
  started.push(served);
  return { ...served, port: new URL(served.url).port };
}

const emailsOf = (stdout: string) => (JSON.parse(stdout) as { records: Array<{ email: string | null }> }).records.map((record) => record.email);

describe('audit after a demo', () => {
  it('audit names where it looked, says how to read the demo, and creates no database', async () => {
    const home = tempDir();
    const served = await demo(home);
    await staffLookUp(served.url, 'carol@example.com');

    const run = await runCli(['audit'], { XDG_DATA_HOME: home });
    expect(run.code).toBe(1);
    const real = join(home, 'stripe-billing-mcp', 'audit.db');
    expect(run.stderr).toContain(`No audit trail at ${real}`);
    expect(run.stderr).toContain('read it with stripe-billing-mcp audit --demo');
    expect(run.stdout).not.toContain('No records match.');
    expect(existsSync(real)).toBe(false);

    const listed = await runCli(['audit', '--demo', '--json'], { XDG_DATA_HOME: home });
    expect(listed.code, listed.stderr).toBe(0);
    expect(emailsOf(listed.stdout)).toContain('carol@example.com');
    expect(listed.stderr).toContain(`Audit trail: SQLite file ${join(home, 'stripe-billing-mcp', 'demo', `port-${served.port}.db`)}`);
  });

  it('the demo trail keeps working with its key file beside it: audit verify --demo passes', async () => {
    const home = tempDir();
    const served = await demo(home);
    await staffLookUp(served.url, 'carol@example.com');
    const files = readdirSync(join(home, 'stripe-billing-mcp', 'demo'));
    expect(files).toContain(`port-${served.port}.db`);
    expect(files).toContain(`port-${served.port}.key`);
    await expect.poll(async () => (await runCli(['audit', 'verify', '--demo'], { XDG_DATA_HOME: home })).stdout, { timeout: 10_000 }).toMatch(/^OK: [1-9]\d* records/);
  });

  it('two demos on one machine keep two trails; audit --demo reads the latest, names the other, and PORT picks one', async () => {
    const home = tempDir();
    const first = await demo(home);
    await staffLookUp(first.url, 'carol@example.com');
    const second = await demo(home);
    await staffLookUp(second.url, 'bob@example.com');

    const [mine, theirs] = await Promise.all([
      runCli(['audit', '--demo', '--json'], { XDG_DATA_HOME: home, PORT: first.port }),
      runCli(['audit', '--demo', '--json'], { XDG_DATA_HOME: home, PORT: second.port }),
    ]);
    // Each demo's banner also checks itself as alice: that record is in both.
    expect(emailsOf(mine.stdout)).toContain('carol@example.com');
    expect(emailsOf(mine.stdout)).not.toContain('bob@example.com');
    expect(emailsOf(theirs.stdout)).toContain('bob@example.com');
    expect(emailsOf(theirs.stdout)).not.toContain('carol@example.com');

    const latest = await runCli(['audit', '--demo', '--json'], { XDG_DATA_HOME: home });
    expect(emailsOf(latest.stdout)).toEqual(emailsOf(theirs.stdout));
    expect(latest.stderr).toContain(`port-${second.port}.db (the latest demo's; another: port-${first.port}`);
    expect(latest.stderr).toContain('PORT=<its port> stripe-billing-mcp audit --demo');
  });

  it('without any demo, audit --demo says how to start one and creates nothing', async () => {
    const home = tempDir();
    const run = await runCli(['audit', '--demo'], { XDG_DATA_HOME: home });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No demo trail yet: start one with npm run demo');
    expect(existsSync(join(home, 'stripe-billing-mcp'))).toBe(false);
  });

  it('an empty real trail: "No records match." names the database read and points at the demo', async () => {
    const home = tempDir();
    const served = await demo(home);
    await staffLookUp(served.url, 'carol@example.com');
    const real = join(home, 'stripe-billing-mcp', 'audit.db');
    const store = await openStoreAsCli({ AUDIT_DB: real });
    await store.migrate();
    await store.close();

    const run = await runCli(['audit'], { XDG_DATA_HOME: home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('No records match.\n');
    expect(run.stderr).toContain(`Audit trail: SQLite file ${real}`);
    expect(run.stderr).toContain('read them with stripe-billing-mcp audit --demo');
  });

  it('erase and verify of a trail that does not exist create nothing', async () => {
    const file = join(tempDir(), 'missing.db');
    for (const args of [['erase', '--email', 'nobody@example.com'], ['verify'], ['purge']]) {
      const run = await runCli(['audit', ...args], { AUDIT_DB: file });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`No audit trail at ${file} (AUDIT_DB)`);
    }
    expect(existsSync(file)).toBe(false);
    expect(existsSync(file.replace(/\.db$/, '.key'))).toBe(false);
  });
});
