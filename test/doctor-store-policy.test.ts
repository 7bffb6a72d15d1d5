/** doctor reads the store Redis's eviction policy (INFO memory): an evicting Redis can drop grants, sessions and limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../src/doctor/run-doctor.js';
import { silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { selectTools } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { testMailer, testSettings } from './support/mcp-harness.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

useFakeStripe({ now: 1_790_000_000 });

async function doctor(env: Record<string, string>): Promise<DoctorReport> {
  const settings = testSettings({ WRITE_TOOLS: 'all', VERIFY_SECRET: 'doctor-test-verify-secret-32-bytes-long!!', ...env });
  const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, mailer: testMailer() });
  try {
    return await runDoctor({ settings, runtime, tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }) });
  } finally {
    await runtime.store.close();
  }
}

const storeRow = (report: DoctorReport) => report.checks.find((check) => check.id === 'store')!;

describe('doctor checks the store Redis’s maxmemory-policy (redis-server on loopback)', () => {
  const servers: RedisServer[] = [];
  let evicting: RedisServer;
  let noeviction: RedisServer;
  let unlimited: RedisServer;
  beforeAll(async () => {
    [evicting, noeviction, unlimited] = await Promise.all([
      startRedisServer(['--maxmemory', '10mb', '--maxmemory-policy', 'allkeys-lru']),
      startRedisServer(['--maxmemory', '10mb', '--maxmemory-policy', 'noeviction']),
      startRedisServer(['--maxmemory-policy', 'volatile-lru']),
    ]);
    servers.push(evicting, noeviction, unlimited);
  });
  afterAll(() => Promise.all(servers.map((server) => server.stop())));

  it('warns, with the fix, when a maxmemory is set with an evicting policy; the store still works', async () => {
    const report = await doctor({ STORE_URL: evicting.url });
    const row = storeRow(report);
    expect(row.status).toBe('warn');
    expect(row.detail).toMatch(/allkeys-lru/);
    expect(row.fix).toMatch(/maxmemory-policy noeviction/);
    expect(report.store).toEqual({ kind: 'redis', status: 'ok' });
    expect(report.ok).toBe(true);
    expect(report.tools.find((tool) => tool.name === 'verify_email_start')?.works).toBe(true);
  });

  it('passes a noeviction Redis without a warning', async () => {
    const row = storeRow(await doctor({ STORE_URL: noeviction.url }));
    expect(row.status).toBe('ok');
    expect(row.detail).toMatch(/noeviction/);
    expect(row.fix).toBeUndefined();
  });

  it('states the quotas that keep one merchant, host key or anonymous caller from filling the store (memory and Redis)', async () => {
    const envs: Array<Record<string, string>> = [{ STORE_MAX_ENTRIES: '40000' }, { STORE_URL: noeviction.url, STORE_MAX_ENTRIES: '40000' }];
    for (const env of envs) {
      const row = storeRow(await doctor(env));
      expect(row.detail).toContain('holds at most 40,000 live entries (STORE_MAX_ENTRIES)');
      expect(row.detail).toContain('each host key 20,000, callers not signed in 4,000 together; in platform mode each merchant 4,000 and each of its host keys 2,000');
    }
  });

  it('passes a Redis without maxmemory (nothing is evicted), mentioning the policy', async () => {
    const row = storeRow(await doctor({ STORE_URL: unlimited.url }));
    expect(row.status).toBe('ok');
    expect(row.detail).toMatch(/volatile-lru/);
  });
});
