import { z } from 'zod';

/**
 * Output building blocks shared by every tool, so every structured result (what hosts and the
 * billing card read) uses one vocabulary. The listed output schema names only each tool's
 * top-level fields (run-tool.ts, outputSchemaFor) and the model reads the text `summarize` writes,
 * so these shapes check answers rather than explain them: few descriptions, and refinements
 * instead of checks JSON Schema would spell out. The two objects that repeat most keep a
 * definition name (`$ref`) for any full-schema export.
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

/*
 * Input building blocks. Every tool's input is listed in the part of JSON Schema that strict
 * function calling accepts as it is (OpenAI's strict mode, Anthropic's strict tool use; Gemini's
 * subset is derived from it by `GET /v1/tools?format=gemini`): a closed object whose properties
 * are all required, an optional argument being nullable with null meaning "not given". Bounds
 * and patterns, keywords some of them reject, are checks instead: run on every call with the
 * message zod's own keyword would give, and left out of the listed schema.
 */

/** A tool's input object: closed, and every property listed as required (optional ones take null). */
export function inputObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const keys = Object.keys(shape);
  // Parsing still strips unknown keys (a customer-mode call that adds `email` loses it); only the
  // listed schema is closed, which is what strict mode needs.
  return z.object(shape).meta({ additionalProperties: false, ...(keys.length > 0 ? { required: keys } : {}) });
}

/** An argument the caller may leave out or send as null (strict mode's way of leaving it out). */
export function optionalInput<T extends z.ZodType>(schema: T) {
  return schema.nullable().optional().transform((value) => value ?? undefined);
}

/** As optionalInput, with the value used when it is left out or null. */
export function defaultedInput<T extends z.ZodType>(schema: T, fallback: NonNullable<z.output<T>>) {
  return schema.nullable().optional().transform((value): NonNullable<z.output<T>> => value ?? fallback);
}

/** A string of `min` to `max` characters (after `trim`, when asked), with zod's messages for .min/.max. */
export function boundedString(limits: { max: number; min?: number; trim?: boolean }) {
  const { max, min = 0, trim = false } = limits;
  return (trim ? z.string().trim() : z.string()).check((payload) => {
    const length = payload.value.length;
    if (length < min) payload.issues.push({ code: 'too_small', origin: 'string', minimum: min, inclusive: true, input: payload.value });
    if (length > max) payload.issues.push({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: payload.value });
  });
}

/** A string matching `pattern`, said in words by `message` (the pattern itself is not listed). */
export function matching<T extends z.ZodType<string>>(schema: T, pattern: RegExp, message: string) {
  return schema.refine((value) => pattern.test(value), message);
}

/** An integer from `min` to `max`, listed as a plain `integer` (no bounds), with zod's messages. */
export function boundedInteger(min: number, max: number) {
  return z
    .number()
    .check((payload) => {
      const value = payload.value;
      if (!Number.isInteger(value)) payload.issues.push({ code: 'invalid_type', expected: 'int', input: value });
      else if (value < min) payload.issues.push({ code: 'too_small', origin: 'number', minimum: min, inclusive: true, input: value });
      else if (value > max) payload.issues.push({ code: 'too_big', origin: 'number', maximum: max, inclusive: true, input: value });
    })
    .meta({ type: 'integer' });
}
