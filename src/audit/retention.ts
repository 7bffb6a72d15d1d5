import { loggedDbError } from './audit-store.js';
import type { Logger } from '../log.js';
import type { AuditTrail } from './audit-trail.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const FIRST_RUN_DELAY_MS = 60_000;

/** Deletes records older than `days` (leaving an anchor), once shortly after start-up and then daily. */
export function startRetention(trail: AuditTrail, days: number, log: Logger): () => void {
  const run = async () => {
    const cutoff = new Date(Date.now() - days * DAY_MS).toISOString();
    try {
      const purged = await trail.store.purgeBefore(cutoff);
      if (purged > 0) log.info({ purged, cutoff }, 'audit trail: retention purge');
    } catch (error) {
      log.warn({ err: loggedDbError(error) }, 'audit trail: retention purge failed, will retry tomorrow');
    }
  };
  const first = setTimeout(run, FIRST_RUN_DELAY_MS);
  const daily = setInterval(run, DAY_MS);
  first.unref();
  daily.unref();
  return () => {
    clearTimeout(first);
    clearInterval(daily);
  };
}
