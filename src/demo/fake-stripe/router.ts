/**
 * Route declarations: each endpoint names its method + path (which also keys its permission in
 * ROUTE_PERMISSIONS), its parameter schema, and a handler returning a stored-object-shaped
 * result. The dispatcher in index.ts does auth, permissions, validation and expansion around it.
 */
import type { z } from 'zod';
import { ROUTE_PERMISSIONS, type Permission, type RouteKey } from './permissions.js';
import type { FakeStripeStore } from './store.js';

export interface RouteContext {
  store: FakeStripeStore;
  /** Unix seconds: the fake's clock, used for `created` of new objects and for expiry checks. */
  now: number;
  /** Values of `:name` segments in the route's path. */
  pathParams: Readonly<Record<string, string>>;
  /** Customers created after this moment are not yet visible to search (Stripe's indexing lag). */
  searchVisibleBefore: number;
}

export interface RouteDefinition<S extends z.ZodType = z.ZodType> {
  key: RouteKey;
  params: S;
  // Method syntax keeps handlers with specific param types assignable to the erased route list.
  handle(ctx: RouteContext, params: z.output<S>): object;
}

export function defineRoute<S extends z.ZodType>(route: RouteDefinition<S>): RouteDefinition<S> {
  return route;
}

export interface MatchedRoute {
  route: RouteDefinition;
  permission: Permission;
  pathParams: Record<string, string>;
}

interface CompiledRoute {
  method: string;
  segments: string[];
  route: RouteDefinition;
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteDefinition[]) {
    this.compiled = routes
      .map((route) => {
        const [method = '', path = ''] = route.key.split(' ');
        return { method, segments: path.split('/').filter(Boolean), route };
      })
      // Literal segments win over `:id` (so /v1/customers/search is not a customer id).
      .sort((a, b) => paramCount(a.segments) - paramCount(b.segments));
  }

  match(method: string, path: string): MatchedRoute | undefined {
    const parts = path.split('/').filter(Boolean);
    for (const candidate of this.compiled) {
      if (candidate.method !== method || candidate.segments.length !== parts.length) continue;
      const pathParams: Record<string, string> = {};
      const ok = candidate.segments.every((segment, i) => {
        const part = parts[i] ?? '';
        if (segment.startsWith(':')) {
          pathParams[segment.slice(1)] = decodeURIComponent(part);
          return part.length > 0;
        }
        return segment === part;
      });
      if (ok) return { route: candidate.route, permission: ROUTE_PERMISSIONS[candidate.route.key], pathParams };
    }
    return undefined;
  }
}

const paramCount = (segments: string[]): number => segments.filter((s) => s.startsWith(':')).length;
