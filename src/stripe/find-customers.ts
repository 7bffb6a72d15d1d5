import type Stripe from 'stripe';
import { normalizeEmail } from '../verify/principal.js';

/** Values inside a search query's double quotes: escape the two characters that could end it. */
export function searchQueryString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const MAX_SEARCH_PAGES = 3;

async function searchByEmail(stripe: Stripe, email: string): Promise<Stripe.Customer[]> {
  const found: Stripe.Customer[] = [];
  let page: string | undefined;
  for (let i = 0; i < MAX_SEARCH_PAGES; i++) {
    const result = await stripe.customers.search({ query: `email:${searchQueryString(email)}`, limit: 100, ...(page ? { page } : {}) });
    found.push(...result.data);
    if (!result.has_more || !result.next_page) break;
    page = result.next_page;
  }
  return found;
}

/**
 * Every live customer record that belongs to this email, in any letter case.
 *
 * Emails are not unique in Stripe, `list({email})` is case-sensitive, and search is
 * case-insensitive but matches word sequences (so `alice@x.com` also finds `bob.alice@x.com`)
 * and lags behind writes. So: search and list in parallel, then keep only exact case-folded
 * matches. Where search is unavailable (some regions), the list result stands alone.
 */
export async function findCustomersByEmail(stripe: Stripe, email: string): Promise<Stripe.Customer[]> {
  const wanted = normalizeEmail(email);
  const [searched, listed] = await Promise.all([
    searchByEmail(stripe, wanted).catch((error: unknown) => {
      // Search can be unavailable to an account (400) while list works; anything else is real.
      if (isSearchUnavailable(error)) return [];
      throw error;
    }),
    stripe.customers.list({ email: wanted, limit: 100 }).then((page) => page.data),
  ]);
  const byId = new Map<string, Stripe.Customer>();
  for (const customer of [...searched, ...listed]) {
    if (customer.deleted) continue;
    if (customer.email && normalizeEmail(customer.email) === wanted) byId.set(customer.id, customer);
  }
  return [...byId.values()].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
}

function isSearchUnavailable(error: unknown): boolean {
  const candidate = error as { statusCode?: number; type?: string } | undefined;
  return candidate?.statusCode === 400 && candidate.type === 'StripeInvalidRequestError';
}
