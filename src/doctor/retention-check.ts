import type { Settings } from '../config.js';
import { isStripeError } from '../stripe/errors.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import { describeCoupon } from '../tools/lib/portal-flows.js';
import type { DoctorCheck } from './run-doctor.js';

/** The tools whose cancel links carry the offer. */
const CANCEL_LINK_TOOLS = ['cancel_subscription', 'get_billing_portal_link'];

/**
 * CANCEL_RETENTION_COUPON, when set: the coupon must exist and still be redeemable, else cancel
 * links go out without the offer (they still work, so this warns rather than fails). Reads only.
 */
export async function retentionCouponCheck(runtime: ToolRuntime, settings: Settings, tools: readonly AnyToolDefinition[]): Promise<DoctorCheck | undefined> {
  const id = settings.CANCEL_RETENTION_COUPON;
  if (!id) return undefined;
  const affects = tools.map((tool) => tool.name).filter((name) => CANCEL_LINK_TOOLS.includes(name));
  const base = { id: 'retention_coupon', title: 'Offer to stay when cancelling', affects };
  const unset = 'Set CANCEL_RETENTION_COUPON to a valid coupon id from Dashboard → Product catalog → Coupons, or unset it.';
  let coupon;
  try {
    coupon = await runtime.stripe.coupons.retrieve(id);
  } catch (error) {
    if (isStripeError(error) && error.statusCode === 404) {
      return { ...base, status: 'warn', detail: `CANCEL_RETENTION_COUPON ${id} does not exist on this account: cancel links go out without the offer`, fix: unset };
    }
    if (isStripeError(error) && error.statusCode === 403) {
      return {
        ...base,
        status: 'warn',
        detail: 'the key cannot read coupons, so the offer could not be checked and answers cannot say what it is',
        fix: 'Grant the restricted key “Coupons: Read” (rak_coupon_read).',
      };
    }
    return { ...base, status: 'warn', detail: 'the retention coupon could not be checked: Stripe did not answer' };
  }
  if (!coupon.valid) {
    return { ...base, status: 'warn', detail: `coupon ${id} is no longer valid (expired or fully redeemed): cancel links go out without the offer`, fix: unset };
  }
  return { ...base, status: 'ok', detail: `the cancel flow offers ${describeCoupon(coupon, coupon.currency ?? 'usd')}` };
}
