import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Settings } from '../config.js';
import { ToolError } from '../errors.js';
import { LazyRedisClient } from '../redis-client.js';

const MINUTE_MS = 60_000;

interface Limiters {
  perCaller: RateLimiterAbstract;
  perConversation: RateLimiterAbstract;
}

/**
 * A fair share of tool calls: per caller (host or staff key) and per conversation, each call of
 * a batch counted on its own. Shared by every process through the store's Redis; each process
 * falls back to counting on its own while Redis does not answer.
 */
export class CallLimits {
  private readonly redis: LazyRedisClient | undefined;
  private limiters: Promise<Limiters> | undefined;

  constructor(private readonly settings: Pick<Settings, 'HOST_CALLS_PER_MINUTE' | 'CONVERSATION_CALLS_PER_MINUTE' | 'STORE_URL'>) {
    if (settings.STORE_URL) {
      this.redis = new LazyRedisClient(settings.STORE_URL, { enableOfflineQueue: false, connectTimeout: 2_000, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
    }
  }

  /** Undefined when the call may go ahead; otherwise the busy refusal with when to retry. */
  async admit(caller: string, conversation: string | undefined): Promise<ToolError | undefined> {
    const { perCaller, perConversation } = await (this.limiters ??= this.createLimiters());
    return (await this.take(perCaller, caller, 'caller')) ?? (conversation === undefined ? undefined : await this.take(perConversation, conversation, 'conversation'));
  }

  private async createLimiters(): Promise<Limiters> {
    const storeClient = this.redis ? await this.redis.get() : undefined;
    const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
      const options = { keyPrefix, points, duration: MINUTE_MS / 1000 };
      if (!storeClient) return new RateLimiterMemory(options);
      return new RateLimiterRedis({ ...options, storeClient, insuranceLimiter: new RateLimiterMemory(options) });
    };
    return {
      perCaller: limiter('sbm:calls:caller', this.settings.HOST_CALLS_PER_MINUTE),
      perConversation: limiter('sbm:calls:conversation', this.settings.CONVERSATION_CALLS_PER_MINUTE),
    };
  }

  private async take(limiter: RateLimiterAbstract, key: string, limit: 'caller' | 'conversation'): Promise<ToolError | undefined> {
    try {
      await limiter.consume(key);
      return undefined;
    } catch (rejection) {
      // Anything but a refusal (both stores failing) lets the call through: Stripe's budget still holds.
      if (!(rejection instanceof RateLimiterRes)) return undefined;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      return new ToolError('busy', `Too many requests right now. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, { limit: `${limit} calls per minute` }, seconds);
    }
  }

  /** One tenant's limits in a shared limiter: its callers and conversations are counted apart from every other tenant's. */
  forTenant(tenantId: string): Pick<CallLimits, 'admit'> {
    return { admit: (caller, conversation) => this.admit(`${tenantId}:${caller}`, conversation === undefined ? undefined : `${tenantId}:${conversation}`) };
  }

  async close(): Promise<void> {
    await this.redis?.close();
  }
}
