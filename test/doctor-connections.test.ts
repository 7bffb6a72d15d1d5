import { describe, expect, it } from 'vitest';
import { renderDoctorReport } from '../src/doctor/render-report.js';
import { runDoctor, type DoctorReport } from '../src/doctor/run-doctor.js';
import { silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { selectTools } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { testMailer, testSettings } from './support/mcp-harness.js';

useFakeStripe({ now: 1_790_000_000 });

async function doctor(env: Record<string, string> = {}): Promise<DoctorReport> {
  const settings = testSettings(env);
  const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, mailer: testMailer() });
  try {
    return await runDoctor({ settings, runtime, tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }) });
  } finally {
    await runtime.store.close();
  }
}

const row = (report: DoctorReport) => report.checks.find((check) => check.id === 'http_connections')!;

describe('doctor: HTTP connections', () => {
  it('shows the per-client cap and the keep-alive and head timeouts', async () => {
    const report = await doctor();
    expect(row(report)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/at most 256 of the 2048 connections per client address.*kept 65 s.*within 66 s/) });
    expect(renderDoctorReport(report)).toContain('HTTP connections');
    const proxied = await doctor({ TRUST_PROXY: '1', MAX_CONNECTIONS_PER_CLIENT: '64' });
    expect(row(proxied).detail).toMatch(/at most 64 requests in flight per client \(X-Forwarded-For, behind 1 proxy\)/);
  });

  it('warns when idle connections would be closed before a load balancer lets go of them', async () => {
    const report = await doctor({ KEEP_ALIVE_SECONDS: '5' });
    expect(row(report)).toMatchObject({ status: 'warn', fix: expect.stringMatching(/KEEP_ALIVE_SECONDS above its idle timeout/) });
    // A warning, not a failure: every tool still works.
    expect(report.ok).toBe(true);
  });
});
