/**
 * Why a card payment failed, in words a customer can act on, from Stripe's decline code
 * (https://docs.stripe.com/declines/codes). The code is the charge's `outcome.reason` for an
 * issuer decline, else its `failure_code`. The issuer's own text (`failure_message`,
 * `outcome.seller_message`) never reaches a customer: it is free text from a third party.
 *
 * Codes that mean the bank suspects the card is lost, stolen or misused are worded as a plain
 * decline and shown to customers as `generic_decline`, as Stripe advises: telling a cardholder
 * "your card was reported stolen" accuses them and tips off whoever holds the card.
 */

export interface DeclineReason {
  /** What happened, for the customer. */
  reason: string;
  /** What the customer can do about it. */
  whatToDo: string;
  /** The code customers see instead of the real one (risk-related codes). */
  shownAs?: 'generic_decline';
}

const UPDATE_CARD = 'Update the card in the billing portal, or pay the invoice from its payment page with another card.';
const CALL_BANK = 'Contact the bank that issued the card, or use another card: update it in the billing portal, or pay the invoice from its payment page.';
const ANOTHER_CARD = 'Use another card: update it in the billing portal, or pay the invoice from its payment page with a different card.';
const TRY_AGAIN = 'This is usually temporary: paying the invoice again from its payment page, or waiting for the next automatic attempt, normally works.';

/** A decline the bank gave no reason for; codes that name one (call_issuer…) have their own words. */
const NO_REASON: DeclineReason = { reason: 'The bank declined the payment without giving a reason.', whatToDo: CALL_BANK };
/** A risk-related decline, worded as NO_REASON and shown to customers as generic_decline. */
const BANK_DECLINED: DeclineReason = { ...NO_REASON, shownAs: 'generic_decline' };
const NOT_ALLOWED: DeclineReason = { reason: 'The bank does not allow this kind of payment on the card.', whatToDo: CALL_BANK };
const NOT_NOW: DeclineReason = { reason: 'The bank could not process the payment at that moment.', whatToDo: TRY_AGAIN };
const REENTER_CVC = 'Enter the card again with the correct security code in the billing portal.';
const REENTER_NUMBER = 'Enter the card again with the correct number in the billing portal.';
const REENTER_EXPIRY = 'Enter the card again with the correct expiry date in the billing portal.';

export const DECLINE_REASONS: Readonly<Record<string, DeclineReason>> = {
  insufficient_funds: { reason: 'The card did not have enough funds or credit available for this payment.', whatToDo: 'Add funds or use another card: update it in the billing portal, or pay the invoice from its payment page.' },
  expired_card: { reason: 'The card has expired.', whatToDo: 'Add a current card in the billing portal.' },
  do_not_honor: NO_REASON,
  generic_decline: NO_REASON,
  card_declined: { reason: 'The card was declined by the bank.', whatToDo: CALL_BANK },
  call_issuer: { reason: 'The bank declined the payment and asks the cardholder to contact it.', whatToDo: CALL_BANK },
  do_not_try_again: { reason: 'The bank declined the payment.', whatToDo: CALL_BANK },
  no_action_taken: NO_REASON,
  approve_with_id: { reason: 'The bank could not approve the payment this time.', whatToDo: TRY_AGAIN },
  authentication_required: {
    reason: 'The bank asked the cardholder to confirm this payment (for example with 3D Secure), which cannot happen automatically.',
    whatToDo: 'Open the invoice’s payment page and complete the bank’s confirmation step, or add the card again in the billing portal.',
  },
  incorrect_cvc: { reason: 'The card’s security code (CVC) did not match.', whatToDo: REENTER_CVC },
  invalid_cvc: { reason: 'The card’s security code (CVC) was not valid.', whatToDo: REENTER_CVC },
  incorrect_number: { reason: 'The card number was not correct.', whatToDo: REENTER_NUMBER },
  invalid_number: { reason: 'The card number was not valid.', whatToDo: REENTER_NUMBER },
  incorrect_zip: { reason: 'The postal code did not match the one the bank has for the card.', whatToDo: 'Enter the card again with the billing postal code the bank has, in the billing portal.' },
  invalid_expiry_month: { reason: 'The card’s expiry month was not valid.', whatToDo: REENTER_EXPIRY },
  invalid_expiry_year: { reason: 'The card’s expiry year was not valid.', whatToDo: REENTER_EXPIRY },
  lost_card: BANK_DECLINED,
  stolen_card: BANK_DECLINED,
  pickup_card: BANK_DECLINED,
  fraudulent: BANK_DECLINED,
  merchant_blacklist: BANK_DECLINED,
  security_violation: BANK_DECLINED,
  restricted_card: { reason: 'The bank does not allow this card to be used for this payment.', whatToDo: CALL_BANK },
  card_not_supported: { reason: 'The card does not support this kind of payment (for example recurring or online payments).', whatToDo: ANOTHER_CARD },
  currency_not_supported: { reason: 'The card cannot be charged in this currency.', whatToDo: ANOTHER_CARD },
  transaction_not_allowed: NOT_ALLOWED,
  service_not_allowed: NOT_ALLOWED,
  not_permitted: { reason: 'The bank does not allow this payment on the card.', whatToDo: CALL_BANK },
  processing_error: { reason: 'A processing error happened while charging the card.', whatToDo: TRY_AGAIN },
  try_again_later: NOT_NOW,
  issuer_not_available: { reason: 'The bank could not be reached to approve the payment.', whatToDo: TRY_AGAIN },
  reenter_transaction: NOT_NOW,
  card_velocity_exceeded: { reason: 'The card has reached its spending limit or balance for now.', whatToDo: 'Contact the bank to raise the limit, wait for it to reset, or use another card in the billing portal.' },
  withdrawal_count_limit_exceeded: { reason: 'The card has reached the number of payments its bank allows for now.', whatToDo: 'Wait for the limit to reset, contact the bank, or use another card in the billing portal.' },
  invalid_account: { reason: 'The bank says the card or its account is no longer valid.', whatToDo: ANOTHER_CARD },
  new_account_information_available: { reason: 'The bank has newer details for this card (for example a replacement card).', whatToDo: 'Add the current card details in the billing portal.' },
  invalid_amount: { reason: 'The bank did not accept the payment amount.', whatToDo: CALL_BANK },
  duplicate_transaction: { reason: 'The bank declined it as a duplicate of a very recent identical payment.', whatToDo: 'Check with the bank whether an earlier payment went through before paying again.' },
  testmode_decline: { reason: 'The payment used a Stripe test card, which always fails on a live account.', whatToDo: 'Add a real card in the billing portal.' },
  // Radar's own outcomes (charge.outcome.reason when Stripe blocked the payment): a plain decline.
  highest_risk_level: BANK_DECLINED,
  elevated_risk_level: BANK_DECLINED,
  rule: BANK_DECLINED,
  low_probability_of_authorization: BANK_DECLINED,
};

const UNKNOWN: DeclineReason = { reason: 'The payment did not go through.', whatToDo: UPDATE_CARD };

export interface ExplainedDecline extends DeclineReason {
  /** The code this audience may see. */
  code: string;
}

/** The decline code of a failed charge: the issuer's (`outcome.reason`), else Stripe's `failure_code`. */
export function chargeDeclineCode(charge: { outcome?: { reason?: string | null } | null; failure_code?: string | null }): string | null {
  return charge.outcome?.reason ?? charge.failure_code ?? null;
}

/**
 * The plain-words reason for a code. `staff` see the real code; customers see a risk-related
 * one as `generic_decline`, and an unknown code (free text we have no words for) as `unknown`.
 */
export function explainDecline(code: string | null | undefined, audience: 'customer' | 'staff'): ExplainedDecline {
  const known = code ? DECLINE_REASONS[code] : undefined;
  if (!known) return { ...UNKNOWN, code: audience === 'staff' && code ? code : 'unknown' };
  return { ...known, code: audience === 'customer' && known.shownAs ? known.shownAs : code! };
}
