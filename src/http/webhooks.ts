import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { invalidateForEvent, type StripeEventLike } from '../cache/event-invalidation.js';
import type { ToolRuntime } from '../tools/lib/context.js';

/**
 * How long an event id is remembered. Stripe retries undelivered events for up to three days, but
 * handling an event twice only costs one extra Stripe read, and these ids share the cache's budget.
 */
const EVENT_MEMORY_MS = 24 * 60 * 60_000;
const MAX_EVENT_BYTES = 1024 * 1024;

const record = z.record(z.string(), z.unknown());
/** What the cache needs of an event; a signed body without it is Stripe's (or a test's) oddity, not a reason to fail. */
const eventShape = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.object({ object: record, previous_attributes: record.nullish().transform((value) => value ?? undefined) }),
});

/**
 * `POST /webhooks/stripe`: Stripe's events keep the cache honest. The signature is checked on
 * the raw body before anything else; each event id is handled once across every process
 * sharing the cache; an event invalidates what it names and nothing of its payload is kept.
 * Answers fast: the next tool call re-reads Stripe, not this request.
 */
export function webhookRoutes(options: { runtime: ToolRuntime; secret: string | undefined; onEvent?: (outcome: string) => void }): Hono {
  const { runtime, secret } = options;
  const { reads, log } = runtime;
  const app = new Hono();
  app.post(
    '/webhooks/stripe',
    bodyLimit({ maxSize: MAX_EVENT_BYTES, onError: (c) => c.json({ error: 'body_too_large', message: 'Event bodies are limited to 1 MB.' }, 413) }),
    async (c) => {
      if (!secret) return c.json({ error: 'not_configured', message: 'Webhooks are not configured: set STRIPE_WEBHOOK_SECRET.' }, 404);
      const signature = c.req.header('stripe-signature');
      const raw = await c.req.text();
      let signed: unknown;
      try {
        if (!signature) throw new Error('no Stripe-Signature header');
        signed = await runtime.stripe.webhooks.constructEventAsync(raw, signature, secret);
      } catch {
        // Stripe's message can quote the header; the log gets only that the check failed.
        log.warn({ reason: signature ? 'signature mismatch or too old' : 'no signature' }, 'webhook refused');
        options.onEvent?.('bad_signature');
        return c.json({ error: 'bad_signature', message: 'The Stripe-Signature header is missing or does not match STRIPE_WEBHOOK_SECRET.' }, 400);
      }
      const parsed = eventShape.safeParse(signed);
      if (!parsed.success) {
        // Acknowledged: an error status would only make Stripe redeliver the same body for three days.
        log.warn({ problem: parsed.error.issues[0]?.path.join('.') || 'not an object', kind: Array.isArray(signed) ? 'array' : signed === null ? 'null' : typeof signed }, 'webhook event ignored: not an event Stripe sends');
        options.onEvent?.('ignored');
        return c.json({ received: true, ignored: true });
      }
      const event: StripeEventLike = parsed.data;
      let release = async () => {};
      try {
        const claim = await reads.claimEvent(event.id, EVENT_MEMORY_MS);
        release = claim.release;
        if (!claim.claimed) {
          options.onEvent?.('duplicate');
          return c.json({ received: true, duplicate: true });
        }
        const invalidated = await invalidateForEvent(reads, event);
        await reads.noteEventArrived();
        if (invalidated === 0) {
          // A type we do not cache, or an object whose customer no read has recorded: its entries age out by their TTL.
          log.debug({ event: event.id, type: event.type }, 'webhook event names nothing cached');
          options.onEvent?.('no_match');
        } else {
          log.debug({ event: event.id, type: event.type, invalidated }, 'webhook event');
          options.onEvent?.('ok');
        }
        return c.json({ received: true });
      } catch (error) {
        // Let Stripe retry: forget the claim so the retry is not taken for a duplicate.
        await release().catch(() => {});
        log.warn({ event: event.id, type: event.type, err: error instanceof Error ? error.message : String(error) }, 'webhook event not applied; Stripe will retry');
        options.onEvent?.('error');
        return c.json({ error: 'unavailable', message: 'The event could not be applied now; Stripe will retry it.' }, 503);
      }
    },
  );
  return app;
}
