/**
 * Every Stripe read the read tools make, cached per scope (one Stripe key today, one merchant
 * in platform mode). Keys and tags come from what the server resolved (a verified email, the
 * customer ids found for it), never from model input, and every key starts with the scope and
 * the entry schema version, so two merchants or two releases never read each other's entries.
 */
import { LRUCache } from 'lru-cache';
import type Stripe from 'stripe';
import { normalizeEmail } from '../verify/principal.js';
import { findCustomersByEmail } from '../stripe/find-customers.js';
import { stripeFor, type StripeWork } from '../stripe/caller-context.js';
import { isStripeError, stripeErrorCode } from '../stripe/errors.js';
import { memoizedByBytes } from '../memo.js';
import { sha256 } from '../sha256.js';
import {
  projectBalanceTransaction,
  projectCharge,
  projectCustomer,
  projectInvoice,
  projectPrice,
  projectProduct,
  projectSubscription,
  projectSwitchablePlans,
  type SlimBalanceTransaction,
  type SlimCharge,
  type SlimCustomer,
  type SlimInvoice,
  type SlimPrice,
  type SlimProduct,
  type SlimSubscription,
  type SwitchablePlans,
} from './projections.js';
import { TAG_TTL_MS } from './cache-backend.js';
import type { ReadThroughCache } from './read-through.js';
import { warmCustomer } from './warm-customer.js';

/** Bump when a projection changes shape or what it keeps (v2: free text made safe; v3: a charge's risk level): old entries are then never read. */
const CACHE_SCHEMA_VERSION = 'v3';

/** With webhooks an entry lives until an event invalidates it, but never longer than this. */
export const WEBHOOK_FRESH_CEILING_MS = 60 * 60_000;
/**
 * With webhooks, past its TTL an entry no event invalidated is still served at once for this long
 * while a background read refreshes it (an entry lives at most as long as a tag token).
 */
export const WEBHOOK_STALE_MS = TAG_TTL_MS - WEBHOOK_FRESH_CEILING_MS;

/** A customer verified again within this time (another process, a new token) is not warmed again. */
const WARM_AGAIN_AFTER_MS = 60_000;

/** Every list read fetches this many (the tools ask for at most 24) and hands out what was asked. */
const PAGE_SIZE = 25;

function firstOf<T>(page: { data: T[]; has_more: boolean }, limit: number): { data: T[]; has_more: boolean } {
  return { data: page.data.slice(0, limit), has_more: page.has_more || page.data.length > limit };
}

export interface CatalogPrice {
  price: SlimPrice;
  product: SlimProduct;
}

export interface FreshnessPolicy {
  /** Webhooks keep entries fresh (serve with STRIPE_WEBHOOK_SECRET). */
  webhooks: boolean;
  /** CACHE_TTL_SECONDS in ms: the staleness bound without webhooks, and the life of "no customer". */
  ttlMs: number;
}

const sha = (value: string) => sha256(value, 'base64url').slice(0, 22);

/** The scope of a Stripe key: a hash, so the key itself never appears in the cache. */
export function scopeOfKey(apiKey: string): string {
  return `k${sha(`stripe-billing-mcp:${apiKey}`)}`;
}

/** Tags: what an event can name. Shared with the webhook invalidation table. */
export class CacheTags {
  constructor(readonly scope: string) {}
  customer(id: string): string {
    return `${this.scope}:${CACHE_SCHEMA_VERSION}:t:cus:${id}`;
  }
  // An email's tag is made on every call (each read's key starts with it): hashed once per address.
  // The most recent 1 MB kept (one of these per tenant).
  private readonly emailTag = memoizedByBytes((email) => `${this.scope}:${CACHE_SCHEMA_VERSION}:t:email:${sha(normalizeEmail(email))}`, 1024 * 1024);
  email(email: string): string {
    return this.emailTag(email);
  }
  catalog(): string {
    return `${this.scope}:${CACHE_SCHEMA_VERSION}:t:catalog`;
  }
  /** Which customer owns an object that events name without a customer (payment methods, charges, invoices). */
  owner(objectId: string): string {
    return `${this.scope}:${CACHE_SCHEMA_VERSION}:owner:${objectId}`;
  }
  event(eventId: string): string {
    return `${this.scope}:event:${eventId}`;
  }
  lastEvent(): string {
    return `${this.scope}:webhook:last`;
  }
}

interface SubscriptionExpansions {
  /** Discounts with their coupons (needs rak_coupon_read). */
  discounts?: boolean;
  /** The subscription's own payment method (needs rak_payment_method_read). */
  paymentMethod?: boolean;
}

export class BillingReads {
  readonly tags: CacheTags;
  /** Whose reads these are (see forWork); the runtime's own: nobody's. */
  readonly work: StripeWork | undefined = undefined;

  constructor(
    private readonly stripe: Stripe,
    readonly cache: ReadThroughCache,
    scope: string,
    readonly freshness: FreshnessPolicy,
  ) {
    this.tags = new CacheTags(scope);
  }

  /** Every live record of this email (see findCustomersByEmail); "none" lives at most CACHE_TTL_SECONDS. */
  customersByEmail(email: string): Promise<SlimCustomer[]> {
    const tag = this.tags.email(email);
    return this.cache.read({
      key: `${tag}:records`,
      tags: [tag],
      ttlMs: (found) => (found.length === 0 ? this.freshness.ttlMs : this.entryTtl()),
      staleMs: () => this.staleWindow(),
      load: async (work) => (await findCustomersByEmail(this.client(work), email)).map(projectCustomer),
    }, this.work);
  }

  /** One record by id (staff), or null when it was deleted. */
  customer(id: string): Promise<SlimCustomer | null> {
    return this.cache.read({
      key: `${this.tags.customer(id)}:record`,
      tags: [this.tags.customer(id)],
      ttlMs: () => this.entryTtl(),
      staleMs: () => this.staleWindow(),
      load: async (work) => {
        const customer = await this.client(work).customers.retrieve(id);
        return customer.deleted ? null : projectCustomer(customer);
      },
    }, this.work);
  }

  /** The record with its default payment method (and legacy default source) expanded. */
  customerWithPaymentMethod(record: SlimCustomer): Promise<SlimCustomer | null> {
    // default_source is only expanded when set: most accounts have none, and sources are legacy.
    const expand = ['invoice_settings.default_payment_method', ...(record.default_source ? ['default_source'] : [])];
    return this.forCustomer(record.id, `record+pm:${expand.length}`, async (work) => {
      const customer = await this.client(work).customers.retrieve(record.id, { expand });
      if (customer.deleted) return null;
      const slim = projectCustomer(customer);
      const pm = slim.invoice_settings.default_payment_method;
      if (pm) this.recordOwner(typeof pm === 'string' ? pm : pm.id, record.id);
      return slim;
    });
  }

  /** Every subscription of the record, canceled ones included (cached). */
  subscriptions(customerId: string, expansions: SubscriptionExpansions = {}): Promise<SlimSubscription[]> {
    const extraTags = expansions.discounts ? [this.tags.catalog()] : [];
    const what = `subs:${expansions.discounts ? 'd' : ''}${expansions.paymentMethod ? 'p' : ''}`;
    return this.forCustomer(customerId, what, (work) => this.subscriptionsFromStripe(customerId, expansions, work), extraTags);
  }

  /** The same, read from Stripe now: for actions and the checks before them. */
  async subscriptionsFromStripe(customerId: string, expansions: SubscriptionExpansions = {}, work: StripeWork | undefined = this.work): Promise<SlimSubscription[]> {
    const expand = [...(expansions.discounts ? ['data.discounts.source.coupon'] : []), ...(expansions.paymentMethod ? ['data.default_payment_method'] : [])];
    // Without status: 'all', Stripe omits canceled subscriptions.
    const page = await this.client(work).subscriptions.list({ customer: customerId, status: 'all', limit: 100, ...(expand.length ? { expand } : {}) });
    const subs = page.data.map(projectSubscription);
    for (const sub of subs) if (sub.default_payment_method) this.recordOwner(typeof sub.default_payment_method === 'string' ? sub.default_payment_method : sub.default_payment_method.id, customerId);
    return subs;
  }

  /**
   * The newest invoices (at most PAGE_SIZE, `limit` of them returned). One entry per record and
   * status whatever the limit asked, so the overview, the history and every limit share it.
   */
  async invoices(customerId: string, options: { limit: number; status?: Stripe.InvoiceListParams.Status | undefined }): Promise<{ data: SlimInvoice[]; has_more: boolean }> {
    const page = await this.forCustomer(customerId, `invoices:${options.status ?? 'any'}`, async (work) => {
      const listed = await this.client(work).invoices.list({ customer: customerId, limit: PAGE_SIZE, ...(options.status ? { status: options.status } : {}) });
      for (const invoice of listed.data) if (invoice.id) this.recordOwner(invoice.id, customerId);
      return { data: listed.data.map(projectInvoice), has_more: listed.has_more };
    });
    return firstOf(page, options.limit);
  }

  /** The newest charges, as `invoices` does: one entry per record. */
  async charges(customerId: string, limit: number): Promise<{ data: SlimCharge[]; has_more: boolean }> {
    const page = await this.forCustomer(customerId, 'charges', async (work) => {
      const listed = await this.client(work).charges.list({ customer: customerId, limit: PAGE_SIZE });
      for (const charge of listed.data) this.recordOwner(charge.id, customerId);
      return { data: listed.data.map(projectCharge), has_more: listed.has_more };
    });
    return firstOf(page, limit);
  }

  /** The next invoice (a preview, no side effects), or null when Stripe says nothing is upcoming. */
  invoicePreview(customerId: string, subscriptionId?: string): Promise<SlimInvoice | null> {
    return this.forCustomer(
      customerId,
      `preview:${subscriptionId ?? ''}`,
      async (work) => {
        try {
          return projectInvoice(await this.client(work).invoices.createPreview({ customer: customerId, ...(subscriptionId ? { subscription: subscriptionId } : {}) }));
        } catch (error) {
          if (stripeErrorCode(error) === 'invoice_upcoming_none') return null;
          throw error;
        }
      },
      // Prices and coupons change what the next invoice costs.
      [this.tags.catalog()],
    );
  }

  balanceTransactions(customerId: string, limit: number): Promise<SlimBalanceTransaction[]> {
    return this.forCustomer(customerId, `balance:${limit}`, async (work) => {
      const page = await this.client(work).customers.listBalanceTransactions(customerId, { limit });
      return page.data.map(projectBalanceTransaction);
    });
  }

  /** Active recurring prices with their active products (at most 500). */
  catalogPrices(): Promise<CatalogPrice[]> {
    const tag = this.tags.catalog();
    return this.cache.read({
      key: `${tag}:prices`,
      tags: [tag],
      ttlMs: () => this.entryTtl(),
      staleMs: () => this.staleWindow(),
      load: async (work) => {
        const prices: CatalogPrice[] = [];
        for await (const price of this.client(work).prices.list({ active: true, type: 'recurring', limit: 100, expand: ['data.product'] })) {
          const product = price.product;
          if (typeof product === 'string' || product.deleted || !product.active) continue;
          prices.push({ price: projectPrice(price), product: projectProduct(product) });
          if (prices.length >= 500) break;
        }
        return prices;
      },
    }, this.work);
  }

  /** A product outside the catalogue (a legacy or archived plan's), or null when it was deleted. */
  product(id: string): Promise<SlimProduct | null> {
    const tag = this.tags.catalog();
    return this.cache.read({
      key: `${tag}:product:${id}`,
      tags: [tag],
      ttlMs: () => this.entryTtl(),
      staleMs: () => this.staleWindow(),
      load: async (work) => {
        const product = await this.client(work).products.retrieve(id);
        return product.deleted ? null : projectProduct(product);
      },
    }, this.work);
  }

  /**
   * The plans the billing portal lets customers switch to (PORTAL_CONFIGURATION, else the
   * default configuration); null when it names none, or the key cannot read configurations.
   */
  switchablePlans(configurationId: string | undefined): Promise<SwitchablePlans | null> {
    const tag = this.tags.catalog();
    const expand = ['features.subscription_update.products'];
    return this.cache.read({
      key: `${tag}:switchable:${configurationId ?? 'default'}`,
      tags: [tag],
      ttlMs: (plans) => (plans === null ? this.freshness.ttlMs : this.entryTtl()),
      staleMs: () => this.staleWindow(),
      load: async (work) => {
        try {
          const configuration = configurationId
            ? await this.client(work).billingPortal.configurations.retrieve(configurationId, { expand })
            : (await this.client(work).billingPortal.configurations.list({ is_default: true, limit: 1, expand: expand.map((path) => `data.${path}`) })).data[0];
          return configuration ? projectSwitchablePlans(configuration) : null;
        } catch (error) {
          // No permission or no such configuration: plans are then not narrowed (doctor says so).
          if (isStripeError(error) && (error.statusCode === 403 || error.statusCode === 404)) return null;
          throw error;
        }
      },
    }, this.work);
  }

  /** The customer an earlier read recorded as owning this object (a payment method, charge or invoice). */
  async ownerOf(objectId: string): Promise<string | undefined> {
    return this.cache.backend.get(this.tags.owner(objectId));
  }

  /**
   * Claims a webhook event id, across every process sharing the cache: false when it was handled
   * already. `release` forgets the claim (the event could not be applied; Stripe will retry it).
   */
  async claimEvent(eventId: string, ttlMs: number): Promise<{ claimed: boolean; release(): Promise<void> }> {
    const key = this.tags.event(eventId);
    return { claimed: await this.cache.backend.claim(key, ttlMs), release: () => this.cache.backend.delete(key) };
  }

  /** When the last verified webhook event arrived (ISO 8601), as any process sharing the cache saw it. */
  async lastEventAt(): Promise<string | undefined> {
    return this.cache.backend.get(this.tags.lastEvent());
  }

  async noteEventArrived(): Promise<void> {
    await this.cache.backend.set(this.tags.lastEvent(), new Date().toISOString(), 30 * 24 * 60 * 60_000);
  }

  /**
   * Starts the reads a newly verified customer's first question needs, in the background (see
   * warm-customer.ts); never fails, never waits.
   */
  warm(email: string): void {
    const key = normalizeEmail(email);
    if (this.warmedRecently.has(key)) return;
    this.warmedRecently.set(key, true);
    const task = warmCustomer(this, email).catch(() => {});
    this.warming.add(task);
    void task.finally(() => this.warming.delete(task));
  }

  /** Resolves once every warm-up started so far has settled (tests, benches). */
  async warmed(): Promise<void> {
    while (this.warming.size > 0) await Promise.all([...this.warming]);
  }

  private readonly warmedRecently = new LRUCache<string, true>({ max: 10_000, ttl: WARM_AGAIN_AFTER_MS });
  private readonly warming = new Set<Promise<void>>();

  /**
   * These reads as made for `work` (a tool call's caller, a warming read): a cheap view with this
   * object as its prototype. No work: this object.
   */
  forWork(work: StripeWork | undefined): BillingReads {
    return work ? (Object.create(this, { work: { value: work } }) as BillingReads) : this;
  }

  /** The client as seen by a read's work (the answer's, or a revalidation's in the background). */
  private client(work: StripeWork | undefined): Stripe {
    return stripeFor(this.stripe, work);
  }

  close(): Promise<void> {
    return this.cache.backend.close();
  }

  /** After a write of our own: the next read of this record goes to Stripe, webhooks or not. */
  async invalidateCustomer(customerId: string): Promise<void> {
    await this.cache.invalidate([this.tags.customer(customerId)]).catch(() => {});
  }

  private forCustomer<T>(customerId: string, what: string, load: (work: StripeWork | undefined) => Promise<T>, extraTags: string[] = []): Promise<T> {
    const tag = this.tags.customer(customerId);
    return this.cache.read({ key: `${tag}:${what}`, tags: [tag, ...extraTags], ttlMs: () => this.entryTtl(), staleMs: () => this.staleWindow(), load }, this.work);
  }

  private entryTtl(): number {
    return this.freshness.webhooks ? WEBHOOK_FRESH_CEILING_MS : this.freshness.ttlMs;
  }

  /** Only events make serving past the TTL safe: without webhooks the TTL is the staleness bound. */
  private staleWindow(): number {
    return this.freshness.webhooks ? WEBHOOK_STALE_MS : 0;
  }

  /** Lets an event that names only the object (a detached payment method, a refund's charge) find its customer. */
  private recordOwner(objectId: string, customerId: string): void {
    // As long as a tag token lives: trimmed after the entries it helps invalidate, not before.
    this.cache.backend.set(this.tags.owner(objectId), customerId, TAG_TTL_MS).catch(() => {});
  }
}
