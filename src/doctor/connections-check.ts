import type { Settings } from '../config.js';
import { MAX_CONNECTIONS } from '../http/client-connections.js';
import type { DoctorCheck } from './run-doctor.js';

/** The idle timeout of the load balancers most deployments sit behind (AWS ALB, Google Cloud, nginx's upstream keepalive). */
const COMMON_BALANCER_IDLE_SECONDS = 60;

/** The HTTP server's connection limits, and whether idle connections outlive a load balancer's. */
export function connectionsCheck(settings: Settings): DoctorCheck {
  const base = { id: 'http_connections', title: 'HTTP connections', affects: [] };
  const perClient =
    settings.TRUST_PROXY > 0
      ? `at most ${settings.MAX_CONNECTIONS_PER_CLIENT} requests in flight per client (X-Forwarded-For, behind ${settings.TRUST_PROXY} prox${settings.TRUST_PROXY === 1 ? 'y' : 'ies'}), ${MAX_CONNECTIONS} connections in all`
      : `at most ${settings.MAX_CONNECTIONS_PER_CLIENT} of the ${MAX_CONNECTIONS} connections per client address`;
  const detail = `${perClient}; idle keep-alive connections kept ${settings.KEEP_ALIVE_SECONDS} s; a request head must arrive within ${settings.KEEP_ALIVE_SECONDS + 1} s`;
  if (settings.KEEP_ALIVE_SECONDS <= COMMON_BALANCER_IDLE_SECONDS) {
    return {
      ...base,
      status: 'warn',
      detail,
      fix: `Behind a load balancer keep KEEP_ALIVE_SECONDS above its idle timeout (${COMMON_BALANCER_IDLE_SECONDS} s on most): otherwise it can reuse a connection just as this server closes it, and a request fails with a reset.`,
    };
  }
  return { ...base, status: 'ok', detail };
}
