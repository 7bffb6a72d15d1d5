import type { Redis, RedisOptions } from 'ioredis';

/**
 * An ioredis client made on first use. The module loads only in processes that talk to Redis
 * (~60 ms of start-up otherwise), as its own chunk of the bundle; every operation that needs the
 * client is async anyway. Shared by the store, the cache, the Stripe budget and the call limits.
 */
export class LazyRedisClient {
  private client: Promise<Redis> | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions,
    /** Listeners to attach before the first command (ioredis prints unhandled errors otherwise). */
    private readonly onCreate: (client: Redis) => void = (client) => client.on('error', () => {}),
  ) {}

  get(): Promise<Redis> {
    if (this.closed) return Promise.reject(new Error('Redis client closed'));
    this.client ??= import('ioredis').then((module) => {
      // Node gives the named export; a bundle's CommonJS interop may give only the default.
      const RedisClient = module.Redis ?? (module as unknown as { default: typeof module.Redis }).default;
      const client = new RedisClient(this.url, this.options);
      this.onCreate(client);
      return client;
    });
    return this.client;
  }

  /** Quits politely when connected, else drops the connection; a client never made is no work. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.client) return;
    const client = await this.client;
    if (client.status === 'end') return;
    if (client.status === 'ready') {
      try {
        await client.quit();
        return;
      } catch {
        // Fall through: drop the connection without waiting for replies.
      }
    }
    client.disconnect();
  }
}
