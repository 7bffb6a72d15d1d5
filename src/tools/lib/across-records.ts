export interface MergedPage<T> {
  /** Newest first, at most `limit`. */
  items: T[];
  /** True when some record had more than was fetched, or the merge cut items off. */
  more: boolean;
}

/**
 * One person may have several Stripe records: fetch the newest `limit` of each, then keep the
 * newest `limit` overall. Fetching `limit` per record is enough for a correct newest-first merge.
 */
export async function listAcrossRecords<T extends { id: string; created: number }>(
  customers: readonly { id: string }[],
  limit: number,
  fetchPage: (customerId: string, limit: number) => Promise<{ data: T[]; has_more: boolean }>,
): Promise<MergedPage<T>> {
  const pages = await Promise.all(customers.map((customer) => fetchPage(customer.id, limit)));
  const all = pages.flatMap((page) => page.data).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
  return { items: all.slice(0, limit), more: all.length > limit || pages.some((page) => page.has_more) };
}
