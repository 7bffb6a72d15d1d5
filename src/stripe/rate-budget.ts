/**
 * The Stripe request budget of one Stripe key, shared by every process (Redis) or kept in this
 * process. Stripe limits an account across all its processes: 25 requests/s in a sandbox or 100
 * live, 25/s per endpoint, 20 searches/s. Ours is a sliding window log: no span of WINDOW_MS ever
 * passes more than a limit, which a token bucket of one second's worth (Stripe's limiter)
 * always accepts, with 10 % of slack for the time a request takes to reach Stripe.
 *
 * A request waits briefly for room (MAX_WAIT_MS), then fails as "busy" instead of drawing a 429.
 * Each caller (host key, staff key) also has a share of the budget, so one caller's flood leaves
 * room for everyone else: the share holds as soon as another caller waits for room, here or in any
 * process sharing the windows; until then a lone caller is lent the whole budget. Requests waiting
 * in this process are admitted round-robin by caller, and background reads (warming, revalidation)
 * only when no answer is waiting here or in any other process sharing the windows, and only while
 * a reserve of the global limit stays free.
 */
import { WINDOW_MS, type Bucket, type TakeOptions, type WindowBackend } from './budget-windows.js';
import type { StripeWork } from './caller-context.js';

export { MemoryWindows, RedisWindows, WINDOW_MS, type Bucket, type WindowBackend } from './budget-windows.js';

const MAX_WAIT_MS = 5_000;
const SEARCH_LIMIT = 20;
const ENDPOINT_LIMIT = 25;

/** The error code of a call refused by our own budget, never sent to Stripe. */
export const LOCAL_BUDGET_CODE = 'local_rate_budget';

/** The budget ran out for longer than a caller may wait. */
export class StripeBudgetExhausted extends Error {
  constructor(
    readonly bucket: string,
    readonly retryAfterMs: number,
  ) {
    super(`Stripe request budget exhausted (${bucket})`);
    this.name = 'StripeBudgetExhausted';
  }
}

/**
 * Share of the global limit background reads leave free for answers (of other processes too): a
 * slot taken now is gone for a whole window, so background reads stay well clear of the limit.
 */
const BACKGROUND_RESERVE = 0.5;
/** How long an answer's request (made or waiting) holds background reads back, in every process: a window. */
const ANSWERS_ACTIVE_MS = WINDOW_MS;
/**
 * How long a listing "this caller waits for room" lasts unless renewed (a process that dies while
 * waiting holds other callers to their shares this long at most), and how often it is renewed.
 */
const WAITING_LISTED_MS = 2 * WINDOW_MS;
const WAITING_RENEW_MS = WINDOW_MS / 4;

export interface BudgetLimits {
  /** Requests per second this deployment may spend on the key (STRIPE_RATE_LIMIT). */
  global: number;
  /** Percent of each limit one caller may take (CALLER_STRIPE_SHARE). */
  callerSharePercent: number;
  /** Stripe's per-endpoint and search limits (25/s, 20/s); only tests raise them. */
  endpoint?: number;
  search?: number;
}

/** `GET /v1/customers/cus_123/balance_transactions` → `GET /v1/customers/{id}/balance_transactions`: Stripe's endpoints. */
export function endpointOf(method: string, path: string): string {
  const [, version = '', ...rest] = path.split('?')[0]!.split('/');
  // Ids carry digits or capitals (cus_NffrFeUfNV2Hib); path words are lower case (balance_transactions).
  const named = rest.map((segment) => (/[0-9A-Z]/.test(segment) ? '{id}' : segment));
  return `${method.toUpperCase()} /${[version, ...named].join('/')}`;
}

export interface RateLimitEvent {
  /** Stripe-Rate-Limited-Reason, or `unspecified`. */
  reason: string;
  endpoint: string;
  /** `retried`, or `gave_up` once the retries or their time ran out. */
  outcome: 'retried' | 'gave_up';
}

interface Waiter {
  buckets: Bucket[];
  work: StripeWork | undefined;
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class StripeRateBudget {
  /** Told of every 429 Stripe sent despite the budget (logs, metrics). */
  private readonly observers = new Set<(event: RateLimitEvent) => void>();

  constructor(
    private readonly windows: WindowBackend,
    private readonly scope: string,
    private readonly limits: BudgetLimits,
    /** How long a request may wait for room before the call answers busy. */
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {}

  /** Every limit a request counts against: the key's, its endpoint's, search's, and the caller's share of them. */
  bucketsFor(method: string, path: string, caller: string | undefined): Bucket[] {
    const endpoint = endpointOf(method, path);
    const search = endpoint.endsWith('/search');
    const share = (limit: number) => Math.max(1, Math.floor((limit * this.limits.callerSharePercent) / 100));
    const global = this.limits.global;
    const searchLimit = Math.min(this.limits.search ?? SEARCH_LIMIT, global);
    const buckets: Bucket[] = [
      { key: `${this.scope}:global`, limit: global, label: 'global' },
      { key: `${this.scope}:ep:${endpoint}`, limit: Math.min(this.limits.endpoint ?? ENDPOINT_LIMIT, global), label: 'endpoint' },
    ];
    if (search) buckets.push({ key: `${this.scope}:search`, limit: searchLimit, label: 'search' });
    if (caller && this.limits.callerSharePercent < 100) {
      buckets.push({ key: `${this.scope}:caller:${caller}`, limit: share(global), label: 'caller share', share: true });
      if (search) buckets.push({ key: `${this.scope}:caller-search:${caller}`, limit: share(searchLimit), label: 'caller search share', share: true });
    }
    return buckets;
  }

  /**
   * Waits for room in every bucket, at most MAX_WAIT_MS; then StripeBudgetExhausted. Waiting
   * requests are admitted round-robin by caller; background work only when no answer's request
   * was made or waited for within the last window, in any process sharing the windows. A caller's
   * share holds only while another caller is waiting (see `syncWaiting`).
   */
  async acquire(method: string, path: string, caller: string | undefined, work?: StripeWork): Promise<void> {
    const buckets = this.bucketsFor(method, path, caller);
    const background = work?.background === true;
    // Answers are being read: background reads everywhere hold back for a window.
    if (!background) this.noteAnswersActive();
    // Nobody waits here: no turn to keep, take room at once if there is some.
    if (this.waiting === 0) {
      const wait = background
        ? await this.windows.tryTake(this.backgroundBuckets(buckets), { unlessMarked: this.answersWaitingMark })
        : await this.windows.tryTake(buckets, this.lendingTo(caller));
      if (wait === 0) return;
      if (!background && wait > this.maxWaitMs) throw new StripeBudgetExhausted(buckets.map((b) => b.label).join(', '), wait);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { buckets, work, deadline: Date.now() + this.maxWaitMs, resolve, reject };
      this.enqueue(caller ?? '', waiter);
      this.wake?.();
      if (!this.pumping) void this.pump();
    });
  }

  /** Waiting requests by caller; Map order is the rotation (a caller served goes to the back). */
  private readonly answers = new Map<string, Waiter[]>();
  private readonly background: Waiter[] = [];
  private waiting = 0;
  private pumping = false;
  private wake: (() => void) | undefined;
  private lastMarked = 0;
  /** This budget's name in the waiting list: processes (and platform tenants) list callers apart. */
  private readonly id = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  /** Callers this budget listed as waiting, and when it last renewed each listing. */
  private readonly listed = new Map<string, number>();

  private get answersWaitingMark(): string {
    return `${this.scope}:answers-waiting`;
  }

  private get waitersKey(): string {
    return `${this.scope}:waiting`;
  }

  /** A caller with a share is lent the rest of the budget unless another caller is listed as waiting. */
  private lendingTo(caller: string | undefined): TakeOptions {
    return caller && this.limits.callerSharePercent < 100 ? { lending: { waiters: this.waitersKey, caller } } : {};
  }

  /**
   * Lists the callers with answers waiting here, renewed while they wait and taken off once they
   * no longer do, so every process holds the other callers to their shares exactly then.
   */
  private async syncWaiting(): Promise<void> {
    if (this.limits.callerSharePercent >= 100) return;
    const now = Date.now();
    const updates: Promise<void>[] = [];
    for (const caller of this.listed.keys()) {
      if (this.answers.has(caller)) continue;
      this.listed.delete(caller);
      updates.push(this.windows.listWaiting(this.waitersKey, `${this.id}|${caller}`, 0));
    }
    for (const caller of this.answers.keys()) {
      if (!caller || now - (this.listed.get(caller) ?? -Infinity) < WAITING_RENEW_MS) continue;
      this.listed.set(caller, now);
      updates.push(this.windows.listWaiting(this.waitersKey, `${this.id}|${caller}`, WAITING_LISTED_MS));
    }
    // Unreachable windows (Redis down) admit anyway (see tryTake): nothing to share then.
    await Promise.all(updates).catch(() => {});
  }

  /** Marks "answers active" for a window, at most a few times a window (one Redis write each). */
  private noteAnswersActive(): void {
    if (Date.now() - this.lastMarked < ANSWERS_ACTIVE_MS / 4) return;
    this.lastMarked = Date.now();
    this.windows.mark(this.answersWaitingMark, ANSWERS_ACTIVE_MS).catch(() => {});
  }

  /** Background reads leave BACKGROUND_RESERVE of the global limit to answers. */
  private backgroundBuckets(buckets: Bucket[]): Bucket[] {
    return buckets.map((b) => (b.label === 'global' ? { ...b, limit: Math.max(1, Math.floor(b.limit * (1 - BACKGROUND_RESERVE))) } : b));
  }

  private enqueue(caller: string, waiter: Waiter): void {
    this.waiting++;
    if (waiter.work?.background) {
      // Promoted (an answer joined it): the pump moves it to the answers at once, not after its nap.
      waiter.work.onPromoted = () => this.wake?.();
      this.background.push(waiter);
      return;
    }
    const queue = this.answers.get(caller);
    if (queue) queue.push(waiter);
    else this.answers.set(caller, [waiter]);
  }

  /** One loop per process while anything waits: admits in turn, sleeps until room, refuses past deadlines. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiting > 0) {
        await this.syncWaiting();
        // A background read an answer now waits for (it joined it) is an answer.
        for (let i = this.background.length - 1; i >= 0; i--) {
          const waiter = this.background[i]!;
          if (waiter.work?.background) continue;
          this.background.splice(i, 1);
          this.waiting--;
          waiter.deadline = Date.now() + this.maxWaitMs;
          this.enqueue(waiter.work?.caller ?? '', waiter);
        }
        let soonest = Infinity;
        let admitted = false;
        for (const [caller, queue] of this.answers) {
          const waiter = queue[0]!;
          const wait = await this.tryTake(waiter.buckets, this.lendingTo(caller));
          if (wait === 0) {
            queue.shift();
            this.answers.delete(caller);
            if (queue.length > 0) this.answers.set(caller, queue);
            this.admit(waiter);
            admitted = true;
            break;
          }
          soonest = Math.min(soonest, wait);
          this.refuseLate(queue, wait);
          if (queue.length === 0) this.answers.delete(caller);
        }
        if (admitted) continue;
        if (this.answers.size > 0) {
          // Other processes' background reads hold back while answers wait here.
          this.noteAnswersActive();
        } else if (this.background.length > 0) {
          const waiter = this.background[0]!;
          const wait = await this.tryTake(this.backgroundBuckets(waiter.buckets), { unlessMarked: this.answersWaitingMark });
          if (wait === 0) {
            this.background.shift();
            this.admit(waiter);
            continue;
          }
          soonest = Math.min(soonest, wait);
          this.refuseLate(this.background, wait);
        }
        if (this.waiting === 0) break;
        // A little jitter, so processes spread over the freed slots instead of racing for the first.
        // While callers are listed as waiting, at most WAITING_RENEW_MS: their listing stays current.
        const nap = Math.min(Number.isFinite(soonest) ? soonest : 1, this.listed.size > 0 ? WAITING_RENEW_MS : Infinity);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, nap + Math.floor(Math.random() * 25));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } finally {
      this.pumping = false;
      // Nothing waits here any more: this budget's callers are off the waiting list.
      await this.syncWaiting();
    }
  }

  /** The windows unreachable (Redis down): admit; Stripe's own limit and our 429 retries still hold. */
  private async tryTake(buckets: Bucket[], options: TakeOptions): Promise<number> {
    try {
      return await this.windows.tryTake(buckets, options);
    } catch {
      return 0;
    }
  }

  private admit(waiter: Waiter): void {
    this.waiting--;
    waiter.resolve();
  }

  /** Waiters whose deadline comes before room would: busy now, not after waiting in vain. */
  private refuseLate(queue: Waiter[], wait: number): void {
    const now = Date.now();
    for (let i = queue.length - 1; i >= 0; i--) {
      const waiter = queue[i]!;
      if (now + wait <= waiter.deadline) continue;
      queue.splice(i, 1);
      this.waiting--;
      waiter.reject(new StripeBudgetExhausted(waiter.buckets.map((b) => b.label).join(', '), wait));
    }
  }

  /** Stripe answered 429 for this limit: leave it alone for one window, in every process. */
  async slowDown(reason: string, method: string, path: string): Promise<void> {
    const label = reason === 'global-rate' ? 'global' : reason === 'endpoint-rate' ? 'endpoint' : undefined;
    const bucket = this.bucketsFor(method, path, undefined).find((b) => b.label === label);
    if (bucket) await this.windows.fill(bucket);
  }

  onRateLimited(observer: (event: RateLimitEvent) => void): void {
    this.observers.add(observer);
  }

  reportRateLimited(event: RateLimitEvent): void {
    for (const observer of this.observers) observer(event);
  }

  close(): Promise<void> {
    return this.windows.close();
  }
}
