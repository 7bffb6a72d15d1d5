import type Stripe from 'stripe';
import { BUSY_MESSAGE, ToolError } from '../errors.js';
import { LOCAL_BUDGET_CODE } from './rate-budget.js';
import { StripeErrors } from './sdk.js';

const PERMISSION_PATTERN = /\b(rak_[a-z_]+)\b/;

export function isStripeError(error: unknown): error is InstanceType<typeof Stripe.errors.StripeError> {
  return error instanceof StripeErrors.StripeError;
}

/** Stripe's error `code` (e.g. `invoice_upcoming_none`), for tools that turn one into an answer. */
export function stripeErrorCode(error: unknown): string | undefined {
  return isStripeError(error) ? error.code : undefined;
}

/** The `rak_…` permission a 403 names, for logs and the doctor; never for the model. */
export function missingPermission(error: unknown): string | undefined {
  if (!(error instanceof StripeErrors.StripePermissionError)) return undefined;
  return PERMISSION_PATTERN.exec(error.message)?.[1];
}

/**
 * The one mapping from Stripe's errors to what a tool may say. Stripe's own message, the
 * request id and the permission name go to `logDetail` only: upstream text is untrusted
 * and can name other objects.
 */
export function mapStripeError(error: unknown, operation: string): ToolError {
  if (error instanceof ToolError) return error;
  if (!isStripeError(error)) {
    return new ToolError('internal', 'Something went wrong while looking up billing information. Please try again.', {
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  const logDetail = {
    operation,
    stripeType: error.type,
    stripeCode: error.code,
    statusCode: error.statusCode,
    requestId: error.requestId,
    stripeMessage: error.message,
  };
  if (error instanceof StripeErrors.StripePermissionError) {
    return new ToolError(
      'not_available',
      'This information is not available: the billing system is not set up to share it. The merchant can fix this; do not retry.',
      { ...logDetail, permission: missingPermission(error) },
    );
  }
  if (error instanceof StripeErrors.StripeRateLimitError && error.code === LOCAL_BUDGET_CODE) {
    return new ToolError('busy', BUSY_MESSAGE, logDetail, 2);
  }
  if (error instanceof StripeErrors.StripeRateLimitError) {
    return new ToolError('temporarily_unavailable', 'The billing system is temporarily unavailable (too many requests). Try again in a minute.', logDetail);
  }
  if (error instanceof StripeErrors.StripeConnectionError || error instanceof StripeErrors.StripeAPIError) {
    return new ToolError('temporarily_unavailable', 'The billing system is temporarily unavailable. Try again in a minute.', logDetail);
  }
  if ((error.statusCode ?? 0) >= 500) {
    return new ToolError('temporarily_unavailable', 'The billing system is temporarily unavailable. Try again in a minute.', logDetail);
  }
  if (error instanceof StripeErrors.StripeAuthenticationError) {
    return new ToolError('configuration', 'The billing system is not reachable with the current set-up. The merchant needs to check the Stripe key; do not retry.', logDetail);
  }
  if (error instanceof StripeErrors.StripeInvalidRequestError && error.statusCode === 404) {
    return new ToolError('not_found', 'That billing record was not found.', logDetail);
  }
  if (error instanceof StripeErrors.StripeIdempotencyError) {
    return new ToolError('temporarily_unavailable', 'That request is already being processed. Wait a moment and check the result before trying again.', logDetail);
  }
  return new ToolError('internal', 'The billing system could not complete this request.', logDetail);
}
