import { writeSync } from 'node:fs';
import type { LogFn, Logger as PinoLogger } from 'pino';

/**
 * Structured JSON logs on stderr (stdout belongs to the MCP stdio transport). Anything that
 * could carry a secret or a customer's identity is redacted by path, wherever it sits.
 */
export const REDACT_PATHS = [
  'apiKey', '*.apiKey', 'key', '*.key', 'token', '*.token', 'code', '*.code', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'email', '*.email', 'customerToken', '*.customerToken', 'identityToken', '*.identityToken',
];

/** What the server logs with: the pino methods it uses, so that tests can hand it a pino logger of their own. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** Whether a line at `level` would be written (to skip building one that would not). */
  isLevelEnabled(level: string): boolean;
  child(bindings: Record<string, unknown>): Logger;
}

type Method = 'error' | 'warn' | 'info' | 'debug';
/** pino's numbers for its levels (pino.levels.values): a line below the logger's level is dropped. */
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** Every logger made in this process, so that `flushLogs` can wait for their first lines. */
const roots = new Set<PinoOnDemand>();

/**
 * pino, imported when the first line at the logger's level is written: at LOG_LEVEL=silent never,
 * and otherwise not before the server has started (pino and its streams are 60 KiB a start would
 * compile). Lines written while it loads wait, in order, with the time they were written.
 */
class PinoOnDemand {
  private pino: PinoLogger | undefined;
  private writtenAt: number | undefined;
  private readonly waiting: Array<{ logger: DeferredLogger; method: Method; args: unknown[]; time: number }> = [];
  loading: Promise<void> | undefined;
  readonly threshold: number;

  constructor(
    private readonly level: string,
    private readonly destination: number,
  ) {
    this.threshold = LEVEL_VALUES[level] ?? LEVEL_VALUES.info!;
  }

  write(logger: DeferredLogger, method: Method, args: unknown[]): void {
    if (this.pino) {
      (logger.on(this.pino)[method] as (...line: unknown[]) => void)(...args);
      return;
    }
    this.waiting.push({ logger, method, args, time: Date.now() });
    this.loading ??= import('pino').then(({ default: pino }) => {
      this.pino = pino(
        {
          level: this.level,
          base: { service: 'stripe-billing-mcp' },
          redact: { paths: REDACT_PATHS, censor: '[redacted]' },
          formatters: { level: (label) => ({ level: label }) },
          // pino's own epoch time, or when a line that waited for pino was written.
          timestamp: () => `,"time":${this.writtenAt ?? Date.now()}`,
        },
        pino.destination({ fd: this.destination, sync: true }),
      );
      for (const line of this.waiting.splice(0)) {
        this.writtenAt = line.time;
        (line.logger.on(this.pino)[line.method] as (...written: unknown[]) => void)(...line.args);
      }
      this.writtenAt = undefined;
    }, (error: unknown) => {
      // Without pino nothing can be redacted, so the waiting lines are not written: say so once,
      // in a line of our own, and let the next line try again.
      const lost = this.waiting.splice(0).length;
      this.loading = undefined;
      const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'import failed';
      try {
        writeSync(this.destination, `${JSON.stringify({ level: 'error', time: Date.now(), service: 'stripe-billing-mcp', msg: `logging could not start (${code}); ${lost} line(s) not written` })}\n`);
      } catch {
        // stderr itself is gone: nothing left to tell.
      }
    });
  }
}

class DeferredLogger implements Logger {
  private pino: PinoLogger | undefined;

  constructor(
    private readonly root: PinoOnDemand,
    private readonly parent?: DeferredLogger,
    private readonly bindings?: Record<string, unknown>,
  ) {}

  /** This logger as pino's: the root, or its children with their bindings (made once). */
  on(root: PinoLogger): PinoLogger {
    return (this.pino ??= this.parent ? this.parent.on(root).child(this.bindings!) : root);
  }

  private line(method: Method): LogFn {
    const value = LEVEL_VALUES[method]!;
    return ((...args: unknown[]) => {
      if (value >= this.root.threshold) this.root.write(this, method, args);
    }) as LogFn;
  }

  readonly error = this.line('error');
  readonly warn = this.line('warn');
  readonly info = this.line('info');
  readonly debug = this.line('debug');

  isLevelEnabled(level: string): boolean {
    return (LEVEL_VALUES[level] ?? Infinity) >= this.root.threshold;
  }

  child(bindings: Record<string, unknown>): Logger {
    return new DeferredLogger(this.root, this, bindings);
  }
}

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  const root = new PinoOnDemand(options.level ?? 'info', options.destination ?? 2);
  roots.add(root);
  return new DeferredLogger(root);
}

/** For tests and embedding: a logger that writes nowhere. */
export function silentLogger(): Logger {
  return new DeferredLogger(new PinoOnDemand('silent', 2));
}

/** Waits until every line logged so far is written (before an exit that would cut it off). */
export async function flushLogs(): Promise<void> {
  await Promise.all([...roots].map((root) => root.loading));
}
