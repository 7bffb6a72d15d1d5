/**
 * Card declines as Stripe reports them. A failed charge carries the error `code` as
 * `failure_code`, the issuer's `decline_code` as `outcome.reason`, and Stripe's explanation for
 * the merchant as `outcome.seller_message`; the 402 card_error of the request that failed carries
 * `code`, `decline_code`, `message` and the failed `charge`.
 *
 * Which card declines follows Stripe's test cards, by last four digits (4000000000009995
 * declines with insufficient_funds, …), so a test or the demo makes a declining card the same
 * way a developer does in Stripe's test mode.
 */
import type Stripe from 'stripe';
import { StripeHttpError } from './errors.js';

export interface Decline {
  /** The error code: card_declined, expired_card, incorrect_cvc, processing_error… */
  code: string;
  /** The issuer's reason (outcome.reason, error.decline_code). */
  declineCode: string;
  /** What Stripe tells the cardholder (failure_message, error.message). */
  message: string;
}

/** Stripe's declining test cards, by last4. */
const TEST_CARD_DECLINES: Readonly<Record<string, Decline>> = {
  '0002': { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  '9995': { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  '9987': { code: 'card_declined', declineCode: 'lost_card', message: 'Your card was declined.' },
  '9979': { code: 'card_declined', declineCode: 'stolen_card', message: 'Your card was declined.' },
  '0069': { code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.' },
  '0127': { code: 'incorrect_cvc', declineCode: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  '0119': { code: 'processing_error', declineCode: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  '3184': { code: 'card_declined', declineCode: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' },
};

export function declineForCard(last4: string | null | undefined): Decline | undefined {
  return last4 ? TEST_CARD_DECLINES[last4] : undefined;
}

/** The charge's `outcome` for a successful or declined charge. */
export function chargeOutcome(decline: { declineCode: string } | null): Stripe.Charge.Outcome {
  if (!decline) {
    return {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
    };
  }
  // 'card_declined' as a reason: an older demo record with no decline code, i.e. no detail.
  const generic = decline.declineCode === 'generic_decline' || decline.declineCode === 'card_declined';
  return {
    advice_code: null,
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'declined_by_network',
    reason: decline.declineCode,
    risk_level: 'normal',
    seller_message: generic
      ? 'The bank did not return any further details with this decline.'
      : `The bank returned the decline code \`${decline.declineCode}\`.`,
    type: 'issuer_declined',
  };
}

/** Stripe's 402 for a declined payment, naming the failed charge. */
export function cardError(decline: Decline, charge: string): StripeHttpError {
  return new StripeHttpError(402, {
    type: 'card_error',
    code: decline.code,
    decline_code: decline.declineCode,
    message: decline.message,
    charge,
    doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
  });
}
