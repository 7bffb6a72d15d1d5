/**
 * `expand[]` as Stripe does it: a dotted path names an id-valued field to replace with the full
 * object; lists are walked through `data`; at most 4 levels; only fields Stripe marks as
 * expandable. Anything else is an error, so a client asking for the wrong path fails here too.
 */
import { invalidRequest } from './errors.js';
import { isJsonObject, type Json, type JsonObject } from './json.js';
import type { ResourceKind } from './store.js';

/**
 * Expandable fields per object type. Keys are paths relative to the object: nested plain
 * objects (e.g. `invoice_settings`) are part of the key, embedded Stripe objects are not
 * (they have their own entry).
 */
export const EXPANDABLE_FIELDS: Readonly<Record<string, Readonly<Record<string, ResourceKind>>>> = {
  customer: { 'invoice_settings.default_payment_method': 'payment_method', default_source: 'source' },
  subscription: {
    customer: 'customer',
    default_payment_method: 'payment_method',
    default_source: 'source',
    latest_invoice: 'invoice',
    discounts: 'discount',
  },
  subscription_item: { discounts: 'discount' },
  price: { product: 'product' },
  product: { default_price: 'price' },
  invoice: {
    customer: 'customer',
    default_payment_method: 'payment_method',
    discounts: 'discount',
    'parent.subscription_details.subscription': 'subscription',
  },
  line_item: { discounts: 'discount', subscription: 'subscription' },
  charge: { customer: 'customer' },
  refund: { charge: 'charge', customer: 'customer', payment_method: 'payment_method' },
  payment_method: { customer: 'customer' },
  promotion_code: { customer: 'customer', 'promotion.coupon': 'coupon' },
  discount: { customer: 'customer', promotion_code: 'promotion_code', 'source.coupon': 'coupon' },
  customer_balance_transaction: { customer: 'customer', invoice: 'invoice' },
  'billing_portal.session': { configuration: 'billing_portal.configuration' },
};

/**
 * Fields Stripe returns only when asked for with `expand` (includable, not expandable ids),
 * e.g. a portal configuration's switchable products. Stored on the object, removed from answers
 * that did not ask for them.
 */
export const INCLUDABLE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'billing_portal.configuration': ['features.subscription_update.products'],
  // Since API version 2022-11-15 a charge's refunds come only with expand: ['refunds'].
  charge: ['refunds'],
};

export const MAX_EXPAND_DEPTH = 4;

export interface ExpandContext {
  /** The wire form of a stored object, or undefined if there is none with that id. */
  lookup(kind: ResourceKind, id: string): JsonObject | undefined;
  /** Throws Stripe's 403 when the key may not read `kind`. */
  requireRead(kind: ResourceKind): void;
}

const cannotExpand = (path: string) => invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });

export function applyExpansions(root: JsonObject, paths: readonly string[], ctx: ExpandContext): void {
  omitUnrequestedIncludables(root, paths);
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > MAX_EXPAND_DEPTH) {
      throw invalidRequest(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, { param: 'expand' });
    }
    walkObject(root, segments, path, ctx);
  }
}

function walkObject(node: JsonObject, segments: readonly string[], fullPath: string, ctx: ExpandContext): void {
  const type = typeof node.object === 'string' ? node.object : '';
  walk(node, type, '', segments, fullPath, ctx);
}

function walk(node: JsonObject, type: string, prefix: string, segments: readonly string[], fullPath: string, ctx: ExpandContext): void {
  const [segment, ...rest] = segments;
  if (segment === undefined) return;

  // Lists and search results are transparent: `data.x` expands `x` on every element.
  if (!prefix && (type === 'list' || type === 'search_result')) {
    if (segment !== 'data' || rest.length === 0) throw cannotExpand(fullPath);
    for (const element of asArray(node.data)) if (isJsonObject(element)) walkObject(element, rest, fullPath, ctx);
    return;
  }

  const relativePath = prefix ? `${prefix}.${segment}` : segment;
  if (rest.length === 0 && INCLUDABLE_FIELDS[type]?.includes(relativePath)) return;
  const target = EXPANDABLE_FIELDS[type]?.[relativePath];
  const value = node[segment];

  if (target !== undefined) {
    ctx.requireRead(target);
    const expanded = Array.isArray(value) ? value.map((v) => resolve(v, target, ctx)) : resolve(value, target, ctx);
    node[segment] = expanded;
    if (rest.length > 0) {
      for (const obj of Array.isArray(expanded) ? expanded : [expanded]) if (isJsonObject(obj)) walkObject(obj, rest, fullPath, ctx);
    }
    return;
  }

  if (!isJsonObject(value) || rest.length === 0) throw cannotExpand(fullPath);
  if (typeof value.object === 'string') walkObject(value, rest, fullPath, ctx);
  else walk(value, type, relativePath, rest, fullPath, ctx);
}

/** Drops every includable field the request's `expand` did not name (lists: `data.<path>`). */
function omitUnrequestedIncludables(root: JsonObject, paths: readonly string[]): void {
  const isList = root.object === 'list' || root.object === 'search_result';
  const objects = isList ? asArray(root.data).filter(isJsonObject) : [root];
  const requested = new Set(paths.map((path) => (isList ? path.replace(/^data\./, '') : path)));
  for (const object of objects) {
    for (const path of INCLUDABLE_FIELDS[typeof object.object === 'string' ? object.object : ''] ?? []) {
      if (requested.has(path)) continue;
      const segments = path.split('.');
      let parent: Json | undefined = object;
      for (const segment of segments.slice(0, -1)) parent = isJsonObject(parent) ? parent[segment] : undefined;
      if (isJsonObject(parent)) delete parent[segments[segments.length - 1]!];
    }
  }
}

function resolve(value: Json | undefined, kind: ResourceKind, ctx: ExpandContext): Json {
  if (typeof value !== 'string') return value ?? null; // null stays null; already-expanded stays
  return ctx.lookup(kind, value) ?? value;
}

function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}
