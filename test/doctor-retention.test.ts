/** doctor's row for CANCEL_RETENTION_COUPON: a coupon that is missing or no longer valid warns (cancel links go without the offer). */
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import type { DoctorReport } from '../src/doctor/run-doctor.js';
import { doctor } from './support/doctor.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { TEST_STRIPE_KEY, testSettings } from './support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

const row = (report: DoctorReport) => report.checks.find((check) => check.id === 'retention_coupon');

describe('doctor: the offer to stay when cancelling', () => {
  it('has no row when CANCEL_RETENTION_COUPON is not set', async () => {
    expect(row(await doctor())).toBeUndefined();
  });

  it('says what the cancel flow offers when the coupon is valid', async () => {
    const report = await doctor({ CANCEL_RETENTION_COUPON: DEMO.coupons.retention });
    expect(row(report)).toMatchObject({ status: 'ok', detail: 'the cancel flow offers 25% off for 3 months', affects: ['get_billing_portal_link', 'cancel_subscription'] });
    expect(report.ok).toBe(true);
  });

  it('warns, with the fix, when the coupon does not exist; the rest of the report still passes', async () => {
    const report = await doctor({ CANCEL_RETENTION_COUPON: 'DEMO_NO_SUCH_COUPON' });
    expect(row(report)).toMatchObject({ status: 'warn', detail: expect.stringMatching(/DEMO_NO_SUCH_COUPON does not exist on this account: cancel links go out without the offer/), fix: expect.stringMatching(/Set CANCEL_RETENTION_COUPON/) });
    expect(report.ok).toBe(true);
  });

  it('warns when the coupon is no longer valid (expired or fully redeemed)', async () => {
    stripe.fake().store.coupons.get(DEMO.coupons.retention)!.valid = false;
    expect(row(await doctor({ CANCEL_RETENTION_COUPON: DEMO.coupons.retention }))).toMatchObject({ status: 'warn', detail: expect.stringMatching(/no longer valid/) });
  });

  it('warns that it cannot check when the key cannot read coupons', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_coupon_read']);
    expect(row(await doctor({ CANCEL_RETENTION_COUPON: DEMO.coupons.retention }))).toMatchObject({ status: 'warn', fix: expect.stringMatching(/Coupons: Read/) });
  });

  it('refuses a setting that is not one coupon id', async () => {
    expect(() => testSettings({ CANCEL_RETENTION_COUPON: 'A, B' })).toThrow(/CANCEL_RETENTION_COUPON must be one coupon id/);
  });
});
