/**
 * Stripe's cursor pagination: newest first (by `created`, then id), `limit` 1–100 (default 10),
 * `starting_after` / `ending_before` cursors, `has_more`.
 */
import type Stripe from 'stripe';
import { resourceMissing } from './errors.js';

export interface PageParams {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
}

interface Listable {
  id: string;
  created: number;
}

export function newestFirst<T extends Listable>(a: T, b: T): number {
  return b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function paginate<T extends Listable>(items: Iterable<T>, params: PageParams, url: string, noun: string): Stripe.ApiList<T> {
  const sorted = [...items].sort(newestFirst);
  const limit = params.limit ?? 10;
  let page: T[];
  let hasMore: boolean;
  if (params.starting_after !== undefined) {
    const at = sorted.findIndex((o) => o.id === params.starting_after);
    if (at < 0) throw resourceMissing(noun, params.starting_after, 'starting_after');
    const rest = sorted.slice(at + 1);
    page = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (params.ending_before !== undefined) {
    const at = sorted.findIndex((o) => o.id === params.ending_before);
    if (at < 0) throw resourceMissing(noun, params.ending_before, 'ending_before');
    // The page nearest the cursor, still newest first; has_more says whether newer ones remain.
    const before = sorted.slice(0, at);
    page = before.slice(Math.max(0, before.length - limit));
    hasMore = before.length > limit;
  } else {
    page = sorted.slice(0, limit);
    hasMore = sorted.length > limit;
  }
  return { object: 'list', data: page, has_more: hasMore, url };
}
