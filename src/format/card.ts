import type { SlimPaymentMethod, SlimSource } from '../cache/projections.js';

/** The only card facts a result may carry: never the fingerprint, BIN, country or full number. */
export interface MaskedCard {
  type: 'card';
  brand: string;
  last4: string;
  exp: string; // MM/YYYY
  wallet?: string;
  description: string;
}

export interface OtherPaymentMethod {
  type: string;
  last4?: string;
  description: string;
}

export type MaskedPaymentMethod = MaskedCard | OtherPaymentMethod;

const BRAND_NAMES: Record<string, string> = {
  amex: 'American Express',
  diners: 'Diners Club',
  discover: 'Discover',
  eftpos_au: 'eftpos',
  jcb: 'JCB',
  mastercard: 'Mastercard',
  unionpay: 'UnionPay',
  visa: 'Visa',
  cartes_bancaires: 'Cartes Bancaires',
  link: 'Link',
};

function brandName(brand: string): string {
  return BRAND_NAMES[brand] ?? brand;
}

export function maskCard(card: { brand: string; last4: string; exp_month: number; exp_year: number }, wallet?: string | null): MaskedCard {
  const exp = `${String(card.exp_month).padStart(2, '0')}/${card.exp_year}`;
  const name = brandName(card.brand);
  return {
    type: 'card',
    brand: card.brand,
    last4: card.last4,
    exp,
    ...(wallet ? { wallet } : {}),
    description: `${name} ending in ${card.last4}, expires ${exp}${wallet ? ` (${wallet.replace(/_/g, ' ')})` : ''}`,
  };
}

export function maskPaymentMethod(pm: SlimPaymentMethod): MaskedPaymentMethod {
  if (pm.type === 'card' && pm.card) return maskCard(pm.card, pm.card.wallet?.type ?? null);
  if (pm.type === 'sepa_debit' && pm.sepa_debit?.last4) {
    return { type: pm.type, last4: pm.sepa_debit.last4, description: `SEPA Direct Debit ending in ${pm.sepa_debit.last4}` };
  }
  if (pm.type === 'us_bank_account' && pm.us_bank_account?.last4) {
    const bank = pm.us_bank_account.bank_name ?? 'Bank account';
    return { type: pm.type, last4: pm.us_bank_account.last4, description: `${bank} ending in ${pm.us_bank_account.last4}` };
  }
  return { type: pm.type, description: pm.type.replace(/_/g, ' ') };
}

// Legacy sources name brands as printed ("MasterCard"); PaymentMethods use codes ("mastercard").
const SOURCE_BRAND_CODES: Record<string, string> = {
  'American Express': 'amex',
  'Diners Club': 'diners',
  'Eftpos Australia': 'eftpos_au',
};

/** A legacy `card_…` source (customer.default_source) has the same safe fields. */
export function maskSource(source: SlimSource): MaskedPaymentMethod | undefined {
  if (!('brand' in source)) return undefined;
  const brand = SOURCE_BRAND_CODES[source.brand] ?? source.brand.toLowerCase();
  return maskCard({ brand, last4: source.last4, exp_month: source.exp_month, exp_year: source.exp_year });
}
