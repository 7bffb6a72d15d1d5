/**
 * GET /v1/audit?email=…: the trail's records for staff keys (a data-subject request, a dispute,
 * a suspected takeover). Mounted behind the staff-only guard.
 */
import type { Context, Handler } from 'hono';
import { z } from 'zod';
import { conversationHash } from '../audit/call-entry.js';
import { findDisclosures } from '../audit/disclosures.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import { isPlausibleEmail, normalizeEmail } from '../verify/principal.js';
import { conversationKey, type HttpCaller } from '../verify/request-principal.js';

const auditQuerySchema = z
  .object({
    email: z.string().trim().max(254).refine(isPlausibleEmail, 'email must be an email address').transform(normalizeEmail).optional(),
    customer: z.string().regex(/^cus_[A-Za-z0-9]+$/, 'customer looks like cus_…').optional(),
    since: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'since must be a date or time, e.g. 2026-11-01').transform((value) => new Date(value).toISOString()).optional(),
    conversation: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'conversation is 1–128 letters, digits, ".", "_", ":" or "-"').optional(),
    host: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'host is the HOST_KEYS name of the chatbot host').optional(),
    limit: z.coerce.number().int().min(1).max(1000, 'limit is at most 1000').default(100),
  })
  .refine((query) => (query.conversation === undefined) === (query.host === undefined), 'conversation and host go together');

export function auditRoute(runtime: ToolRuntime): Handler<{ Variables: { caller: HttpCaller } }> {
  return async (c: Context<{ Variables: { caller: HttpCaller } }>) => {
    if (!runtime.audit) return c.json({ error: 'not_enabled', message: 'The audit trail is off on this server (AUDIT=off).' }, 404);
    const parsed = auditQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: 'bad_query', message: parsed.error.issues.map((issue) => issue.message).join('; ') }, 400);
    const { conversation, host, ...filter } = parsed.data;
    const hashed = conversation && host ? conversationHash(conversationKey({ kind: 'host', name: host }, conversation)!) : undefined;
    // Platform mode: a tenant's staff read that tenant's records only.
    const found = await findDisclosures(runtime.audit, { ...filter, ...(hashed ? { conversation: hashed } : {}), ...(runtime.tenantId ? { tenant_id: runtime.tenantId } : {}) }, runtime.log);
    if (!found.available) return c.json({ error: 'temporarily_unavailable', message: found.message }, 503);
    // The trail's own state is the operator's (platform mode: every merchant's), not a merchant's.
    return c.json({ records: found.records, ...(runtime.tenantId ? {} : { status: runtime.audit.status() }) });
  };
}
