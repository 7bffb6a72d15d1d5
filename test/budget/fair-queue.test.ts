/**
 * Fair queueing in the Stripe request budget: calls waiting for room are admitted round-robin by
 * caller, and background reads (warming, revalidation) only when no answer waits.
 */
import { describe, expect, it } from 'vitest';
import { promoteToAnswer, type StripeWork } from '../../src/stripe/caller-context.js';
import type { TakeOptions } from '../../src/stripe/budget-windows.js';
import { StripeRateBudget, type Bucket, type WindowBackend } from '../../src/stripe/rate-budget.js';

/** Windows the test opens one slot at a time; marks work as the real ones do. */
class SlotWindows implements WindowBackend {
  free = 0;
  private readonly marks = new Map<string, number>();
  async tryTake(_buckets: readonly Bucket[], { unlessMarked }: TakeOptions = {}): Promise<number> {
    if (unlessMarked !== undefined && (this.marks.get(unlessMarked) ?? 0) > Date.now()) return 5;
    if (this.free === 0) return 5;
    this.free--;
    return 0;
  }
  async mark(key: string, ttlMs: number): Promise<void> {
    this.marks.set(key, Date.now() + ttlMs);
  }
  async listWaiting(): Promise<void> {}
  async fill(): Promise<void> {}
  async close(): Promise<void> {}
}

function queue() {
  const windows = new SlotWindows();
  // A share below 100 %: callers are lent what no other caller waits for, and listed while they wait.
  const budget = new StripeRateBudget(windows, 'fair', { global: 25, callerSharePercent: 80 }, 60_000);
  const admitted: string[] = [];
  const ask = (label: string, caller: string | undefined, work?: StripeWork) => {
    void budget.acquire('GET', '/v1/subscriptions', caller, work).then(() => admitted.push(label));
  };
  /** Lets every call asked so far find the windows full and queue. */
  const queued = () => new Promise((resolve) => setTimeout(resolve, 20));
  /** Opens one slot and waits until someone took it. */
  const openSlot = async () => {
    const before = admitted.length;
    windows.free++;
    // Background reads wait out a window after the last answer: poll longer than one.
    await expect.poll(() => admitted.length, { timeout: 5_000 }).toBe(before + 1);
  };
  return { ask, queued, openSlot, admitted };
}

describe('the Stripe budget admits waiting calls', () => {
  it('round-robin by caller, and background reads only once no answer waits', async () => {
    const { ask, queued, openSlot, admitted } = queue();
    const background = (): StripeWork => ({ caller: undefined, background: true });
    ask('warm 1', undefined, background());
    for (const n of [1, 2, 3]) ask(`A${n}`, 'host:a', { caller: 'host:a', background: false });
    for (const n of [1, 2]) ask(`B${n}`, 'host:b', { caller: 'host:b', background: false });
    ask('warm 2', undefined, background());
    ask('C1', 'host:c', { caller: 'host:c', background: false });
    await queued();
    for (let i = 0; i < 8; i++) await openSlot();
    expect(admitted).toEqual(['A1', 'B1', 'C1', 'A2', 'B2', 'A3', 'warm 1', 'warm 2']);
  });

  it('a background read an answer joined waits as that answer, ahead of other background reads', async () => {
    const { ask, queued, openSlot, admitted } = queue();
    const joined: StripeWork = { caller: undefined, background: true };
    ask('warm 1', undefined, { caller: undefined, background: true });
    ask('warm 2', undefined, joined);
    ask('A1', 'host:a', { caller: 'host:a', background: false });
    await queued();
    await openSlot();
    // A tool call now needs what `warm 2` reads (ReadThroughCache promotes it).
    promoteToAnswer(joined);
    for (let i = 0; i < 2; i++) await openSlot();
    expect(admitted).toEqual(['A1', 'warm 2', 'warm 1']);
  });
});
