/**
 * Stripe-shaped error responses.
 *
 * Handlers throw `StripeHttpError`; the dispatcher renders it as Stripe does
 * (`{error: {type, code?, param?, message, doc_url?}}`), which is what makes the real SDK raise
 * the matching error class (StripeInvalidRequestError, StripePermissionError, …).
 */

export type StripeErrorType = 'invalid_request_error' | 'api_error' | 'idempotency_error' | 'card_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
  /** card_error only: the issuer's reason and the charge that failed. */
  decline_code?: string;
  charge?: string;
}

export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
    this.name = 'StripeHttpError';
  }
}

const docUrl = (code: string): string => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/** A 400 `invalid_request_error`; with a code, Stripe also links the code's documentation. */
export function invalidRequest(message: string, extra: { code?: string; param?: string; status?: number } = {}): StripeHttpError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message };
  if (extra.code) {
    body.code = extra.code;
    body.doc_url = docUrl(extra.code);
  }
  if (extra.param) body.param = extra.param;
  return new StripeHttpError(extra.status ?? 400, body);
}

export const parameterUnknown = (param: string): StripeHttpError =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });

export const parameterMissing = (param: string): StripeHttpError =>
  invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });

/** Stripe's 404 for an id that names nothing, e.g. "No such customer: 'cus_x'". */
export const resourceMissing = (noun: string, id: string, param = 'id'): StripeHttpError =>
  invalidRequest(`No such ${noun}: '${id}'`, { code: 'resource_missing', param, status: 404 });

export const unrecognizedUrl = (method: string, path: string): StripeHttpError =>
  invalidRequest(
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    { status: 404 },
  );

/** Stripe shows only the key's prefix and last four characters. */
export function maskApiKey(apiKey: string): string {
  const prefix = /^(?:rk|sk|pk)_(?:test|live)_/.exec(apiKey)?.[0] ?? '';
  const rest = apiKey.slice(prefix.length);
  if (rest.length <= 4) return `${prefix}${'*'.repeat(rest.length)}`;
  return `${prefix}${'*'.repeat(rest.length - 4)}${rest.slice(-4)}`;
}

export const invalidApiKey = (apiKey: string): StripeHttpError =>
  new StripeHttpError(401, {
    type: 'invalid_request_error',
    message: apiKey
      ? `Invalid API Key provided: ${maskApiKey(apiKey)}`
      : 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').',
  });

export const permissionDenied = (apiKey: string, accountId: string, permission: string): StripeHttpError =>
  new StripeHttpError(403, {
    type: 'invalid_request_error',
    message:
      `The provided key '${maskApiKey(apiKey)}' does not have the required permissions for this endpoint on account '${accountId}'. ` +
      `Having the '${permission}' permission would allow this request to continue.`,
  });

export const rateLimited = (): StripeHttpError =>
  new StripeHttpError(429, {
    type: 'invalid_request_error',
    code: 'rate_limit',
    doc_url: docUrl('rate_limit'),
    message:
      'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  });

export const apiError = (status: number): StripeHttpError =>
  new StripeHttpError(status, {
    type: 'api_error',
    message: 'An unknown error occurred while processing this request (simulated by the fake Stripe).',
  });

export const idempotencyMismatch = (key: string): StripeHttpError =>
  new StripeHttpError(400, {
    type: 'idempotency_error',
    message:
      `Keys for idempotent requests can only be used with the same parameters they were first used with. ` +
      `Try using a key other than '${key}' if you meant to execute a different request.`,
  });
