import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout belongs to the MCP stdio transport). Anything that
 * could carry a secret or a customer's identity is redacted by path, wherever it sits.
 */
export const REDACT_PATHS = [
  'apiKey', '*.apiKey', 'key', '*.key', 'token', '*.token', 'code', '*.code', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'email', '*.email', 'customerToken', '*.customerToken', 'identityToken', '*.identityToken',
];

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'stripe-billing-mcp' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}

/** For tests and embedding: a logger that writes nowhere. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
