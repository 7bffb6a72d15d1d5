import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Settings } from '../config.js';
import { ToolError } from '../errors.js';

const requireLazily = createRequire(import.meta.url);

export const MINUTE_MS = 60_000;

/**
 * A fair share of tool calls: per caller (host or staff key) and per conversation, each call of
 * a batch counted on its own. Shared by every process through the store's Redis; each process
 * falls back to counting on its own while Redis does not answer.
 */
export class CallLimits {
  private readonly perCaller: RateLimiterAbstract;
  private readonly perConversation: RateLimiterAbstract;
  private readonly redis: Redis | undefined;

  constructor(settings: Pick<Settings, 'HOST_CALLS_PER_MINUTE' | 'CONVERSATION_CALLS_PER_MINUTE' | 'STORE_URL'>) {
    const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
      const options = { keyPrefix, points, duration: MINUTE_MS / 1000 };
      if (!this.redis) return new RateLimiterMemory(options);
      return new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: new RateLimiterMemory(options) });
    };
    if (settings.STORE_URL) {
      const { Redis: RedisClient } = requireLazily('ioredis') as typeof import('ioredis');
      this.redis = new RedisClient(settings.STORE_URL, { enableOfflineQueue: false, connectTimeout: 2_000, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
      this.redis.on('error', () => {});
    }
    this.perCaller = limiter('sbm:calls:caller', settings.HOST_CALLS_PER_MINUTE);
    this.perConversation = limiter('sbm:calls:conversation', settings.CONVERSATION_CALLS_PER_MINUTE);
  }

  /** Undefined when the call may go ahead; otherwise the busy refusal with when to retry. */
  async admit(caller: string, conversation: string | undefined): Promise<ToolError | undefined> {
    return (await this.take(this.perCaller, caller, 'caller')) ?? (conversation === undefined ? undefined : await this.take(this.perConversation, conversation, 'conversation'));
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

  async close(): Promise<void> {
    if (!this.redis) return;
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
