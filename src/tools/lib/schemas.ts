import { z } from 'zod';

/** Output building blocks shared by every tool, so the model sees one vocabulary. */
export const moneySchema = z.object({
  amount: z.number().int().describe('minor units (cents; yen for JPY)'),
  currency: z.string().describe('ISO 4217, lower case'),
  formatted: z.string(),
});

export const isoDateSchema = z.string().describe('ISO 8601, UTC');

export const maskedPaymentMethodSchema = z.object({
  type: z.string(),
  brand: z.string().optional(),
  last4: z.string().optional(),
  exp: z.string().optional().describe('MM/YYYY'),
  wallet: z.string().optional(),
  description: z.string(),
});
