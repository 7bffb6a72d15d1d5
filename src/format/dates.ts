import { memoized } from '../memo.js';

/** Stripe timestamps are unix seconds; the model gets ISO 8601 (UTC) or nothing. */
export function isoDate(unixSeconds: number): string;
export function isoDate(unixSeconds: number | null | undefined): string | undefined;
export function isoDate(unixSeconds: number | null | undefined): string | undefined {
  if (unixSeconds === null || unixSeconds === undefined) return undefined;
  return isoOf(unixSeconds);
}

/** Warm answers name the same dates every call (periods, invoices, payments): kept once made. */
const isoOf = memoized((unixSeconds: number) => new Date(unixSeconds * 1000).toISOString(), 20_000);

/** Day precision for text renderings: "2026-12-15". */
export function isoDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}
