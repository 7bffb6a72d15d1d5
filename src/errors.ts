/**
 * The only errors a tool result may carry. Each kind maps to one safe message the model
 * can act on; upstream detail (Stripe's own text, permission names, stack traces) goes to
 * the log through `logDetail`, never to the result.
 */
export type ToolErrorKind =
  | 'input' // the model or the customer gave something we cannot use
  | 'not_verified' // customer mode without a verified identity
  | 'not_found' // no billing account / no such invoice for this principal
  | 'not_available' // the Stripe key lacks a permission, or a feature is not set up
  | 'temporarily_unavailable' // connection trouble, Stripe 5xx, Stripe's own 429s after our retries
  | 'busy' // this caller's share or the Stripe request budget is used up for the moment
  | 'configuration' // the merchant's set-up is wrong (bad key, no portal configuration)
  | 'refused' // the merchant's actions policy does not allow this request; the message says why
  | 'internal';

export class ToolError extends Error {
  readonly kind: ToolErrorKind;
  /** Logged, never returned. */
  readonly logDetail: Record<string, unknown> | undefined;

  /** For `busy`: when to try again (HTTP Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ToolErrorKind, safeMessage: string, logDetail?: Record<string, unknown>, retryAfterSeconds?: number) {
    super(safeMessage);
    this.name = 'ToolError';
    this.kind = kind;
    this.logDetail = logDetail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const BUSY_MESSAGE = 'The billing assistant is busy right now. Try again in a few seconds.';
/** The support agents' panel, when a full store cannot take a session or a count. */
export const PANEL_BUSY_MESSAGE = 'The panel is busy right now. Try again in a moment.';

export class UserInputError extends ToolError {
  constructor(safeMessage: string) {
    super('input', safeMessage);
  }
}

/** A start-up problem with a setting; the CLI prints it and exits non-zero. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * A start-up problem of the machine rather than of a setting's syntax (the port is taken by
 * another process): the CLI prints the message, which names the setting that avoids it, and exits 1.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
