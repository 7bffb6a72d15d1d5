import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Tools judge expiry and "past due" by Date.now(); pin it to the fake Stripe's `now` so both
 * agree. Only Date is faked: timers stay real for the network.
 */
export function pinClock(unixSeconds: number): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(unixSeconds * 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
