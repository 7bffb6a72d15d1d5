/**
 * Endpoint parameter schemas and Stripe-style validation errors.
 *
 * Every endpoint declares the parameters it accepts as a strict zod object, so a parameter the
 * real endpoint would reject (a typo, a removed field such as `coupon` on subscriptions) fails
 * here exactly as it fails at Stripe: 400 `parameter_unknown` naming the bracketed path.
 * Form values arrive as strings, so the helpers below parse integers and booleans themselves.
 */
import { z } from 'zod';
import { StripeHttpError, invalidRequest, parameterMissing, parameterUnknown } from './errors.js';
import { bracketPath, type FormObject, type FormValue } from './params.js';

const STRIPE_CODE = 'stripeCode';

function customIssue(message: string, code?: string): Parameters<z.RefinementCtx['addIssue']>[0] {
  return { code: 'custom', message, params: code ? { [STRIPE_CODE]: code } : {} };
}

/** An integer sent as a form string; Stripe answers `parameter_invalid_integer` otherwise. */
export function formInt(bounds: { min?: number; max?: number } = {}) {
  return z.string().transform((raw, ctx) => {
    if (!/^-?\d+$/.test(raw)) {
      ctx.addIssue(customIssue(`Invalid integer: ${raw}`, 'parameter_invalid_integer'));
      return z.NEVER;
    }
    const value = Number(raw);
    if ((bounds.min !== undefined && value < bounds.min) || (bounds.max !== undefined && value > bounds.max)) {
      const range = `between ${bounds.min ?? '-∞'} and ${bounds.max ?? '∞'}`;
      ctx.addIssue(customIssue(`This value must be ${range}, but got ${raw}.`, 'parameter_invalid_integer'));
      return z.NEVER;
    }
    return value;
  });
}

export function formBool() {
  return z.string().transform((raw, ctx) => {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    ctx.addIssue(customIssue(`Invalid boolean: ${raw}`, 'parameter_invalid_string'));
    return z.NEVER;
  });
}

/** A string that must be one of `values`, with Stripe's "must be one of" wording. */
export function formEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().transform((raw, ctx) => {
    if ((values as readonly string[]).includes(raw)) return raw as T[number];
    ctx.addIssue(customIssue(`Invalid value: must be one of ${values.join(', ')}`, 'parameter_invalid_string'));
    return z.NEVER;
  });
}

/** `''` is how the SDK sends "clear this field" (e.g. `discounts: ''`). */
export function emptyable<S extends z.ZodType>(schema: S) {
  return z.union([z.literal(''), schema]);
}

export const expandParam = z.array(z.string()).optional();

/** Metadata as Stripe takes it on create: '' for the whole hash, or for a value, means "none". */
export const metadataParam = emptyable(z.record(z.string(), z.string())).optional();

export function metadataFrom(param: z.output<typeof metadataParam>): Record<string, string> {
  if (param === undefined || param === '') return {};
  return Object.fromEntries(Object.entries(param).filter(([, value]) => value !== ''));
}

/** `created` and similar timestamp filters: an integer or `{gt, gte, lt, lte}`. */
export const rangeParam = z
  .union([formInt(), z.strictObject({ gt: formInt().optional(), gte: formInt().optional(), lt: formInt().optional(), lte: formInt().optional() })])
  .optional();
export type RangeFilter = z.output<typeof rangeParam>;

export function matchesRange(value: number, range: RangeFilter): boolean {
  if (range === undefined) return true;
  if (typeof range === 'number') return value === range;
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte)
  );
}

/** The cursor parameters every Stripe list endpoint accepts. */
export const paginationShape = {
  limit: formInt({ min: 1, max: 100 }).optional(),
  starting_after: z.string().optional(),
  ending_before: z.string().optional(),
  expand: expandParam,
};

function valueAt(input: FormValue | undefined, path: ReadonlyArray<PropertyKey>): FormValue | undefined {
  let node: FormValue | undefined = input;
  for (const key of path) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = Array.isArray(node) ? node[Number(key)] : node[String(key)];
  }
  return node;
}

/**
 * Picks the issue Stripe would report. Unknown parameters win (Stripe rejects them before
 * anything else); within a union, the branch that got furthest explains the failure.
 */
function flattenIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => flattenIssues(branch));
      const informative =
        branches.find((b) => b.some((i) => i.code !== 'invalid_type' && i.code !== 'invalid_value')) ??
        // Otherwise the branch that took the value's shape and failed inside it (a missing field).
        branches.find((b) => b.length > 0 && b.every((i) => i.path.length > 0));
      if (informative) {
        out.push(
          // A branch's issues have paths relative to the union's value.
          ...informative.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as z.core.$ZodIssue),
        );
        continue;
      }
    }
    out.push(issue);
  }
  return out;
}

function toStripeError(issues: readonly z.core.$ZodIssue[], input: FormObject): StripeHttpError {
  const flat = flattenIssues(issues);
  const unknown = flat.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') return parameterUnknown(bracketPath([...unknown.path, unknown.keys[0] ?? '']));
  const missing = flat.find((i) => i.code === 'invalid_type' && valueAt(input, i.path) === undefined);
  if (missing) return parameterMissing(bracketPath(missing.path));
  const issue = flat[0];
  if (!issue) return invalidRequest('Invalid request parameters.');
  const param = bracketPath(issue.path);
  if (issue.code === 'custom') {
    const code = typeof issue.params?.[STRIPE_CODE] === 'string' ? (issue.params[STRIPE_CODE] as string) : undefined;
    return invalidRequest(`${issue.message} (parameter ${param})`, { param, ...(code ? { code } : {}) });
  }
  if (issue.code === 'invalid_type') {
    const expected = issue.expected === 'array' ? 'array' : issue.expected === 'object' ? 'hash' : 'string';
    return invalidRequest(`Invalid ${expected}: ${param}`, { param, code: `parameter_invalid_${expected === 'hash' ? 'string' : expected}` });
  }
  return invalidRequest(`Invalid value for ${param}.`, { param });
}

/** Validates decoded form parameters against an endpoint schema, throwing Stripe's 400 on failure. */
export function validateParams<S extends z.ZodType>(schema: S, input: FormObject): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw toStripeError(result.error.issues, input);
}
