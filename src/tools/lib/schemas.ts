import { z } from 'zod';

/**
 * Output building blocks shared by every tool, so the model sees one vocabulary. They repeat in
 * every listed output schema, so they carry no descriptions (the server instructions explain
 * money and dates once), checks that JSON Schema would spell out at length are refinements, and
 * the two objects that repeat most are listed once per tool as definitions (`$ref`).
 */
export const moneySchema = z.object({
  amount: z.number().refine(Number.isSafeInteger, 'amounts are integer minor units'),
  currency: z.string(),
  formatted: z.string(),
}).meta({ id: 'Money' });

export const isoDateSchema = z.string();

export const maskedPaymentMethodSchema = z.object({
  type: z.string(),
  brand: z.string().optional(),
  last4: z.string().optional(),
  exp: z.string().optional().describe('MM/YYYY'),
  wallet: z.string().optional(),
  description: z.string(),
}).meta({ id: 'PaymentMethod' });

/** An active discount: "LOYAL5: $5.00 off, no end date". */
export const discountSchema = z.object({ name: z.string(), off: z.string(), lasts: z.string() });

/** How the next amount follows from Stripe's invoice preview; the parts add up to amount_due. */
export const nextPaymentBreakdownSchema = z.object({
  lines: z.array(z.object({ description: z.string(), amount: moneySchema })),
  discounts: z.array(z.object({ name: z.string(), amount: moneySchema.describe('negative') })),
  tax: moneySchema.optional(),
  credit_applied: moneySchema.optional().describe('account credit used, negative'),
  balance_added: moneySchema.optional().describe('an earlier unpaid balance'),
  amount_due: moneySchema,
  tax_note: z.string(),
});
