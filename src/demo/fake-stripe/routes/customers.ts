import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, resourceMissing } from '../errors.js';
import { makeCustomerBalanceTransaction } from '../factories.js';
import { newestFirst, paginate } from '../paginate.js';
import { defineRoute, type RouteContext } from '../router.js';
import { matchesSearchQuery, parseSearchQuery } from '../search-query.js';
import { expandParam, formInt, matchesRange, metadataFrom, metadataParam, paginationShape, rangeParam } from '../validate.js';

export function requireCustomer(ctx: RouteContext, id: string, param = 'id'): Stripe.Customer {
  const customer = ctx.store.liveCustomer(id);
  if (!customer) throw resourceMissing('customer', id, param);
  return customer;
}

export const listCustomers = defineRoute({
  key: 'GET /v1/customers',
  params: z.strictObject({
    ...paginationShape,
    created: rangeParam,
    email: z.string().optional(),
    test_clock: z.string().optional(),
  }),
  handle(ctx, params) {
    const customers = [...ctx.store.customers.values()].filter(
      (c): c is Stripe.Customer =>
        !c.deleted &&
        // Stripe's list filter is an exact, case-SENSITIVE match (unlike search).
        (params.email === undefined || c.email === params.email) &&
        matchesRange(c.created, params.created) &&
        (params.test_clock === undefined || c.test_clock === params.test_clock),
    );
    return paginate(customers, params, '/v1/customers', 'customer');
  },
});

/** Search pages are opaque tokens at Stripe; here they encode the offset of the next page. */
const encodePage = (offset: number): string => `page_${Buffer.from(`offset:${offset}`).toString('base64url')}`;
function decodePage(token: string): number {
  const match = /^page_(.+)$/.exec(token);
  const decoded = match?.[1] ? Buffer.from(match[1], 'base64url').toString() : '';
  const offset = /^offset:(\d+)$/.exec(decoded)?.[1];
  if (offset === undefined) throw invalidRequest(`Invalid page: ${token}`, { param: 'page' });
  return Number(offset);
}

export const searchCustomers = defineRoute({
  key: 'GET /v1/customers/search',
  params: z.strictObject({
    query: z.string(),
    limit: formInt({ min: 1, max: 100 }).optional(),
    page: z.string().optional(),
    expand: expandParam,
  }),
  handle(ctx, params) {
    const query = parseSearchQuery(params.query);
    const hits = [...ctx.store.customers.values()]
      .filter((c): c is Stripe.Customer => !c.deleted && c.created <= ctx.searchVisibleBefore)
      .filter((c) =>
        matchesSearchQuery(query, {
          strings: { email: c.email ?? null, name: c.name ?? null, phone: c.phone ?? null },
          numbers: { created: c.created },
          metadata: c.metadata,
        }),
      )
      .sort(newestFirst);
    const limit = params.limit ?? 10;
    const offset = params.page ? decodePage(params.page) : 0;
    const data = hits.slice(offset, offset + limit);
    const hasMore = hits.length > offset + limit;
    return {
      object: 'search_result',
      data,
      has_more: hasMore,
      next_page: hasMore ? encodePage(offset + limit) : null,
      url: '/v1/customers/search',
    } satisfies Stripe.ApiSearchResult<Stripe.Customer>;
  },
});

export const retrieveCustomer = defineRoute({
  key: 'GET /v1/customers/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    // Stripe still answers for a deleted customer, with only {id, object, deleted: true}.
    const customer = ctx.store.customers.get(id);
    if (!customer) throw resourceMissing('customer', id);
    return customer;
  },
});

export const listBalanceTransactions = defineRoute({
  key: 'GET /v1/customers/:id/balance_transactions',
  params: z.strictObject({ ...paginationShape, created: rangeParam, invoice: z.string().optional() }),
  handle(ctx, params) {
    const customer = requireCustomer(ctx, ctx.pathParams.id ?? '');
    const transactions = [...ctx.store.balanceTransactions.values()].filter(
      (t) =>
        t.customer === customer.id &&
        matchesRange(t.created, params.created) &&
        (params.invoice === undefined || t.invoice === params.invoice),
    );
    return paginate(transactions, params, `/v1/customers/${customer.id}/balance_transactions`, 'customer balance transaction');
  },
});

export const retrieveBalanceTransaction = defineRoute({
  key: 'GET /v1/customers/:id/balance_transactions/:transaction',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const customer = requireCustomer(ctx, ctx.pathParams.id ?? '');
    const id = ctx.pathParams.transaction ?? '';
    const transaction = ctx.store.balanceTransactions.get(id);
    if (!transaction || transaction.customer !== customer.id) throw resourceMissing('customer balance transaction', id);
    return transaction;
  },
});

/**
 * A manual adjustment of the customer's balance: a negative amount is a credit the customer
 * can spend on future invoices, a positive one a debit added to the next invoice. The balance
 * is kept in the customer's currency (set by the first transaction when it has none).
 */
export const createBalanceTransaction = defineRoute({
  key: 'POST /v1/customers/:id/balance_transactions',
  params: z.strictObject({
    amount: formInt(),
    currency: z.string(),
    description: z.string().max(350).optional(),
    expand: expandParam,
    metadata: metadataParam,
  }),
  handle(ctx, params) {
    const customer = requireCustomer(ctx, ctx.pathParams.id ?? '');
    const currency = params.currency.toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${params.currency}.`, { param: 'currency' });
    // The fake keeps one balance per customer; Stripe keeps per-currency credit balances in
    // invoice_credit_balance, which no tool of ours reads.
    if (customer.currency && customer.currency !== currency) {
      throw invalidRequest(`Customer ${customer.id} has a balance in ${customer.currency}; the fake Stripe cannot add a ${currency} balance transaction.`, { param: 'currency' });
    }
    customer.currency = currency;
    customer.balance += params.amount;
    const transaction = makeCustomerBalanceTransaction({
      id: ctx.store.nextId('cbtxn'),
      customer: customer.id,
      created: ctx.now,
      amount: params.amount,
      currency,
      endingBalance: customer.balance,
      type: 'adjustment',
      description: params.description ?? null,
      metadata: metadataFrom(params.metadata),
    });
    ctx.store.balanceTransactions.set(transaction.id, transaction);
    return transaction;
  },
});

export const customerRoutes = [listCustomers, searchCustomers, retrieveCustomer, listBalanceTransactions, retrieveBalanceTransaction, createBalanceTransaction];
