import { describe, expect, it } from 'vitest';
import { renderDoctorReport } from '../src/doctor/render-report.js';
import type { DoctorReport } from '../src/doctor/run-doctor.js';
import { doctor } from './support/doctor.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';

useFakeStripe({ now: 1_790_000_000 });

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
