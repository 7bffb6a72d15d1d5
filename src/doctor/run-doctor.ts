/**
 * `stripe-billing-mcp doctor` and `GET /v1/status`: every set-up problem a merchant can have,
 * found before a customer meets it. Each check says which tools it affects and how to fix it.
 * Nothing here changes the Stripe account, sends mail or writes to the store.
 */
import { actionPermissionsToProbe, actionsCheck } from './actions-check.js';
import { auditCheck } from './audit-check.js';
import { codeLockCheck } from './code-lock-check.js';
import { retentionCouponCheck } from './retention-check.js';
import { connectionsCheck } from './connections-check.js';
import { WEBHOOK_FRESH_CEILING_MS } from '../cache/billing-reads.js';
import type { Settings } from '../config.js';
import { probeStripeCapabilities, type PortalState, type StripeCapabilities } from '../stripe/capabilities.js';
import { paddedKeyWarning } from '../stripe/key.js';
import { PERMISSIONS, type PermissionState } from '../stripe/permission-probes.js';
import getCustomerOverview from '../tools/get-customer-overview.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import { toolsForMode } from '../tools/registry.js';
import { capabilityNeeds, needsMail, needsStore, permissionsUsed, toolBlockers, toolLimitations, toolUnknowns, type ServiceHealth } from '../tools/lib/tool-availability.js';
import { MailDeliveryError } from '../verify/mailer.js';
import { RedisStore } from '../verify/redis-store.js';
import { describeStoreQuotas } from '../verify/store-quotas.js';
import { checkIdentityTokens, type IdentityCheck } from './identity-check.js';

/** `ok` works; `fail` breaks the tools it affects; `unknown` could not be checked (counts as a failure); `warn` works but deserves a look; `off` not configured. */
export type CheckStatus = 'ok' | 'fail' | 'unknown' | 'warn' | 'off';

export interface DoctorCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** Tool names (and, for identity, the sign-in path) this check decides. */
  affects: string[];
  fix?: string;
}

export interface DoctorReport {
  /** Every check passed (or only warns): every enabled tool will work and nothing configured is broken. */
  ok: boolean;
  checked_at: string;
  stripe: { connected: boolean; key: string; key_kind: 'restricted' | 'secret'; mode: 'test' | 'live' };
  permissions: Record<string, PermissionState>;
  portal: PortalState | null;
  store: { kind: 'memory' | 'redis'; status: 'ok' | 'unreachable' };
  mail: { status: 'ok' | 'fail' | 'off'; detail: string };
  identity: { kind: IdentityCheck['kind']; status: IdentityCheck['status'] };
  cache: { kind: 'memory' | 'redis'; webhooks: boolean; max_staleness_seconds: number; last_event_at: string | null; status: 'ok' | 'unreachable' };
  /** `without`: the sections a working tool leaves out for a missing optional permission ("works, without …"). */
  tools: Array<{ name: string; works: boolean; reasons: string[]; without: string[] }>;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  settings: Settings;
  runtime: ToolRuntime;
  /** The enabled tools (TOOLS, WRITE_TOOLS); verification tools are checked only when verification is on. */
  tools: readonly AnyToolDefinition[];
  fetch?: typeof fetch;
  /** --demo: the demo's own audit file. */
  demo?: boolean;
}

const KEY_PAGE = 'Dashboard → Developers → API keys';
const PORTAL_PAGE = 'Dashboard → Settings → Billing → Customer portal';

const MAIL_FIXES: Record<MailDeliveryError['reason'], string> = {
  connection: 'Check the host and port in SMTP_URL and that this machine may connect to it.',
  timeout: 'Check the host and port in SMTP_URL; the server did not answer in time.',
  tls: 'Use smtps:// for port 465, or smtp:// (STARTTLS) for 587.',
  auth: 'Check the user and password in SMTP_URL (percent-encode special characters).',
  rejected: 'The mail server refused the sender: check MAIL_FROM.',
  server: 'The mail server answered with an error; check its logs.',
};

const names = (tools: readonly AnyToolDefinition[]) => tools.map((tool) => tool.name);

/** The insight panel is no tool, but it reads what get_customer_overview reads and keeps sessions in the store. */
const PANEL = 'insight panel (/panel, /v1/insight)';

function keyCheck(runtime: ToolRuntime, capabilities: StripeCapabilities, all: string[]): DoctorCheck {
  const check = keyStateCheck(runtime, capabilities, all);
  // Spaces around a pasted key are ignored, but the place it is set should lose them.
  if (!runtime.key.padded || check.status === 'fail' || check.status === 'unknown') return check;
  return { ...check, status: 'warn', detail: `${check.detail}; the key has spaces or a line break around it (ignored)`, fix: [check.fix, paddedKeyWarning()].filter(Boolean).join(' ') };
}

function keyStateCheck(runtime: ToolRuntime, capabilities: StripeCapabilities, all: string[]): DoctorCheck {
  const { kind, mode, redacted } = runtime.key;
  const sees = `${mode} mode: sees only ${mode}-mode customers and payments`;
  const base = { id: 'stripe_key', title: 'Stripe key', affects: all };
  if (capabilities.key === 'refused') {
    return { ...base, status: 'fail', detail: `Stripe refused ${redacted}: it is revoked, rolled or mistyped`, fix: `Create a restricted key in ${KEY_PAGE} and set STRIPE_API_KEY to it.` };
  }
  if (capabilities.key === 'unreachable') {
    return { ...base, status: 'unknown', detail: 'Stripe could not be reached, so nothing about the key could be checked', fix: 'Check the network (or STRIPE_API_BASE) and run doctor again.' };
  }
  if (kind === 'secret') {
    return {
      ...base,
      status: 'warn',
      detail: `secret key (${redacted}), ${sees}; it can do anything on the account`,
      fix: `Create a restricted key (rk_${mode}_…) with only the permissions below in ${KEY_PAGE}.`,
    };
  }
  return { ...base, status: 'ok', detail: `restricted key (${redacted}), ${sees}` };
}

function permissionChecks(capabilities: StripeCapabilities, tools: readonly AnyToolDefinition[]): DoctorCheck[] {
  if (capabilities.key !== 'accepted') return [];
  const byLabel = (a: string, b: string) => (PERMISSIONS[a]?.label ?? a).localeCompare(PERMISSIONS[b]?.label ?? b);
  return capabilityNeeds(tools).permissions.sort(byLabel).map((permission) => {
    const outcome = capabilities.permissions[permission] ?? { state: 'unknown' as const };
    const label = PERMISSIONS[permission]?.label ?? permission;
    const affects = [...names(tools.filter((tool) => permissionsUsed(tool).includes(permission))), ...(permissionsUsed(getCustomerOverview).includes(permission) ? [PANEL] : [])];
    const fix = `Grant "${label}" (${permission}) to the restricted key: ${KEY_PAGE} → the key → Edit.`;
    if (outcome.state === 'granted') return { id: `permission:${permission}`, title: label, status: 'ok', detail: 'granted', affects };
    // Tools that only lose a section without it keep working: a warning, not a failure.
    const needed = tools.some((tool) => tool.permissions.includes(permission));
    if (outcome.state === 'missing' && !needed) {
      return { id: `permission:${permission}`, title: label, status: 'warn', detail: `missing (${permission}): these tools work without the parts it adds`, affects, fix };
    }
    if (outcome.state === 'missing') return { id: `permission:${permission}`, title: label, status: 'fail', detail: `missing (${permission})`, affects, fix };
    return { id: `permission:${permission}`, title: label, status: 'unknown', detail: `could not be checked: ${outcome.reason ?? 'no answer'}`, affects, fix: 'Run doctor again in a minute.' };
  });
}

function portalChecks(capabilities: StripeCapabilities, tools: readonly AnyToolDefinition[], mode: 'test' | 'live'): DoctorCheck[] {
  const portal = capabilities.portal;
  const portalTools = tools.filter((tool) => tool.portal);
  if (!portal || portalTools.length === 0) return [];
  const cancelTools = names(portalTools.filter((tool) => tool.portal === 'cancel'));
  const base = { id: 'billing_portal', title: 'Billing portal', affects: names(portalTools) };
  const saveFix = `Save the customer portal settings in ${PORTAL_PAGE} (in ${mode} mode).`;
  // Nothing is known of the portal while Stripe refuses the key: the key is what to fix, not the portal.
  if (capabilities.key === 'refused') {
    return [{ ...base, status: 'unknown', detail: 'could not be checked: Stripe refused the key (revoked, rolled or mistyped)', fix: `Fix the key first (see Stripe key above): create a restricted key in ${KEY_PAGE} and set STRIPE_API_KEY to it.` }];
  }
  switch (portal.status) {
    case 'ready': {
      const checks: DoctorCheck[] = [{ ...base, status: 'ok', detail: `configuration ${portal.configuration} is active` }];
      if (cancelTools.length > 0) {
        checks.push(
          portal.cancel_enabled
            ? { id: 'billing_portal_cancel', title: 'Portal cancellation', status: 'ok', detail: 'customers can cancel in the portal', affects: cancelTools }
            : {
                id: 'billing_portal_cancel',
                title: 'Portal cancellation',
                status: 'fail',
                detail: 'cancellation is switched off in the portal configuration',
                affects: cancelTools,
                fix: `Turn on "Cancel subscriptions" in ${PORTAL_PAGE}, or leave cancel_subscription out of TOOLS.`,
              },
        );
      }
      return checks;
    }
    case 'not_configured':
      return [{ ...base, status: 'fail', detail: 'no default portal configuration is saved, so Stripe refuses every portal link', fix: saveFix }];
    case 'configuration_missing':
      return [{ ...base, status: 'fail', detail: `PORTAL_CONFIGURATION ${portal.configuration ?? ''} does not exist on this account`, fix: `Set PORTAL_CONFIGURATION to a bpc_… id from ${PORTAL_PAGE}, or unset it to use the default.` }];
    case 'configuration_inactive':
      return [{ ...base, status: 'fail', detail: `portal configuration ${portal.configuration ?? ''} is inactive`, fix: `Activate it in ${PORTAL_PAGE}, or point PORTAL_CONFIGURATION at an active one.` }];
    case 'unknown':
      return [
        {
          ...base,
          status: 'unknown',
          detail: `could not be checked: ${portal.reason}`,
          fix:
            portal.cause === 'no_permission'
              ? `Grant "Customer portal: Read" (rak_billing_portal_configuration_read) so the set-up can be checked: ${KEY_PAGE} → the key → Edit.`
              : 'Run doctor again once Stripe answers.',
        },
      ];
  }
}

async function mailCheck(runtime: ToolRuntime, mailTools: string[]): Promise<DoctorCheck> {
  const base = { id: 'mail', title: 'Mail (one-time codes)', affects: mailTools };
  const verification = runtime.verification;
  if (verification?.mode === 'trust-email') {
    return { ...base, status: 'warn', detail: 'VERIFY_MODE=trust-email: visitors are matched by the email they type, without verification', fix: 'Use identity tokens or email codes (VERIFY_MODE=code) unless the chat host verified the user itself.' };
  }
  if (!verification) {
    return { ...base, affects: [], status: 'off', detail: 'no SMTP_URL: visitors who are not logged in cannot verify their email' };
  }
  if (verification.mailer.transport === 'outbox') {
    return { ...base, status: 'ok', detail: 'demo outbox: codes are printed to stderr, not mailed' };
  }
  try {
    await verification.mailer.verify?.({ quiet: true });
    return { ...base, status: 'ok', detail: 'the mail server accepted the connection and login' };
  } catch (error) {
    const reason = error instanceof MailDeliveryError ? error.reason : 'server';
    return { ...base, status: 'fail', detail: `the mail server check failed (${reason})`, fix: MAIL_FIXES[reason] };
  }
}

/** The store's check, with the quotas that keep any one caller from filling it. */
async function storeCheck(runtime: ToolRuntime, settings: Settings, tools: readonly AnyToolDefinition[]): Promise<DoctorCheck> {
  const check = await storeReachability(runtime, settings, tools);
  return { ...check, detail: `${check.detail}; ${describeStoreQuotas(settings.STORE_MAX_ENTRIES)}` };
}

async function storeReachability(runtime: ToolRuntime, settings: Settings, tools: readonly AnyToolDefinition[]): Promise<DoctorCheck> {
  const affects = [...names(tools.filter(needsStore)), `${PANEL} sign-in`];
  if (!settings.STORE_URL) {
    return { id: 'store', title: 'Shared store', status: 'ok', detail: 'in-memory: codes, verifications and limits live in this one process', affects };
  }
  const up = await runtime.store.ping().catch(() => false);
  if (up && runtime.store instanceof RedisStore) {
    // INFO, not CONFIG GET: managed Redis often disables CONFIG. Every key of the store has a TTL,
    // so any evicting policy (volatile-* included) may drop live grants, sessions and limits.
    const memory = await runtime.store.info('memory').catch(() => '');
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(memory)?.[1]?.trim();
    const policy = field('maxmemory_policy');
    const maxmemory = Number(field('maxmemory') ?? 0);
    const fix = 'Set `maxmemory-policy noeviction` on the Redis in STORE_URL (redis.conf, or the provider\'s parameter group); give the cache an evicting Redis of its own through CACHE_URL if it needs one.';
    if (policy !== undefined && policy !== 'noeviction') {
      return maxmemory > 0
        ? {
            id: 'store',
            title: 'Shared store (Redis)',
            status: 'warn',
            detail: `Redis answered PING, but its maxmemory-policy is ${policy} with a maxmemory of ${maxmemory} bytes: when it fills, Redis evicts verified conversations, panel sessions and code limits`,
            affects,
            fix,
          }
        : { id: 'store', title: 'Shared store (Redis)', status: 'ok', detail: `Redis answered PING; no maxmemory is set, so its maxmemory-policy ${policy} evicts nothing (set noeviction before setting a maxmemory)`, affects };
    }
    if (policy === 'noeviction') {
      return { id: 'store', title: 'Shared store (Redis)', status: 'ok', detail: `Redis answered PING; maxmemory-policy noeviction${maxmemory > 0 ? ` (maxmemory ${maxmemory} bytes: when full, new state is refused as busy, nothing is evicted)` : ''}`, affects };
    }
  }
  return up
    ? { id: 'store', title: 'Shared store (Redis)', status: 'ok', detail: 'Redis answered PING', affects }
    : {
        id: 'store',
        title: 'Shared store (Redis)',
        status: 'fail',
        detail: 'Redis did not answer: email verification, verified conversations and resend limits stop working',
        affects,
        fix: 'Check that redis-server runs and that STORE_URL (host, port, password, db) is right.',
      };
}

function identityCheckRow(identity: IdentityCheck, verificationOn: boolean): DoctorCheck {
  const affects = ['customer sign-in by identity token'];
  if (identity.status === 'off' && !verificationOn) {
    return {
      id: 'identity',
      title: 'Identity tokens',
      status: 'warn',
      detail: `${identity.detail}; with no email codes either, customer mode verifies nobody`,
      affects,
      fix: 'Set IDENTITY_SECRET (HS256, ≥ 32 bytes) or IDENTITY_JWKS_URL, and/or SMTP_URL + MAIL_FROM for email codes.',
    };
  }
  return { id: 'identity', title: 'Identity tokens', affects, ...identity, ...(identity.status === 'off' ? { affects: [] } : {}) };
}

/** Panel sessions are signed: processes sharing a Redis store must share the signing secret. */
function panelCheck(settings: Settings): DoctorCheck {
  const base = { id: 'panel', title: 'Insight panel', affects: [PANEL] };
  if (settings.STAFF_KEYS.length === 0) return { ...base, affects: [], status: 'off', detail: 'no STAFF_KEYS: nobody can sign in to /panel' };
  if (settings.STORE_URL && !settings.PANEL_SESSION_SECRET && !settings.VERIFY_SECRET) {
    return {
      ...base,
      status: 'warn',
      detail: 'STORE_URL is shared but sessions are signed with a random per-process secret: an agent is signed in on one process only',
      fix: 'Set PANEL_SESSION_SECRET (≥ 32 bytes) to the same value on every process.',
    };
  }
  return { ...base, status: 'ok', detail: `${settings.STAFF_KEYS.length} staff key${settings.STAFF_KEYS.length === 1 ? '' : 's'} can sign in` };
}

/** Which plans get_available_plans may show: PLAN_PRODUCTS, the portal's switchable products, or (warned) everything. */
async function plansCheck(runtime: ToolRuntime, settings: Settings, tools: readonly AnyToolDefinition[]): Promise<DoctorCheck | undefined> {
  if (!tools.some((tool) => tool.name === 'get_available_plans')) return undefined;
  const base = { id: 'plans', title: 'Plans customers may see', affects: ['get_available_plans'] };
  if (settings.PLAN_PRODUCTS.length > 0) return { ...base, status: 'ok', detail: `PLAN_PRODUCTS names ${settings.PLAN_PRODUCTS.length} product${settings.PLAN_PRODUCTS.length === 1 ? '' : 's'}` };
  const switchable = await runtime.reads.switchablePlans(settings.PORTAL_CONFIGURATION).catch(() => null);
  if (switchable) {
    return { ...base, status: 'ok', detail: `the billing portal lets customers switch to ${switchable.products.length} product${switchable.products.length === 1 ? '' : 's'}; only those are shown` };
  }
  return {
    ...base,
    status: 'warn',
    detail: 'every active recurring price is shown, including any product made for a single customer',
    fix: 'Turn on plan switching in Dashboard → Settings → Billing → Customer portal and choose the products customers may switch to, or set PLAN_PRODUCTS=prod_…,prod_….',
  };
}

/** How fresh answers are: webhooks, the TTL, and when the last verified event arrived (shared cache: from any process). */
async function cacheCheck(runtime: ToolRuntime, settings: Settings): Promise<{ row: DoctorCheck; summary: DoctorReport['cache'] }> {
  const kind: DoctorReport['cache']['kind'] = (settings.CACHE_URL ?? settings.STORE_URL) ? 'redis' : 'memory';
  const webhooks = settings.STRIPE_WEBHOOK_SECRET !== undefined;
  let lastEvent: string | null = null;
  let reachable = true;
  try {
    lastEvent = (await runtime.reads.lastEventAt()) ?? null;
  } catch {
    reachable = false;
  }
  const staleness = webhooks ? WEBHOOK_FRESH_CEILING_MS / 1000 : settings.CACHE_TTL_SECONDS;
  const summary = { kind, webhooks, max_staleness_seconds: staleness, last_event_at: lastEvent, status: reachable ? ('ok' as const) : ('unreachable' as const) };
  const base = { id: 'cache', title: 'Cached answers', affects: [] };
  if (!reachable) {
    return {
      summary,
      row: { ...base, status: 'warn', detail: 'the cache Redis did not answer: every answer is read from Stripe, which costs rate limit', fix: 'Check that the Redis in CACHE_URL (or STORE_URL) runs and the URL is right.' },
    };
  }
  if (webhooks) {
    const seen = lastEvent ? `last verified event ${lastEvent}` : kind === 'redis' ? 'no verified event has arrived yet' : 'events arriving at this process are counted in /metrics';
    return { summary, row: { ...base, status: 'ok', detail: `Stripe webhooks keep answers fresh (entries live until an event, at most 1 h); ${seen}` } };
  }
  const detail = `no STRIPE_WEBHOOK_SECRET: an answer can be up to ${settings.CACHE_TTL_SECONDS} s old (CACHE_TTL_SECONDS)`;
  // Chatbots ask the same questions at scale; staff over stdio mostly do not.
  return settings.HOST_KEYS.length > 0
    ? {
        summary,
        row: {
          ...base,
          status: 'warn',
          detail,
          fix: 'Add a webhook endpoint https://<this server>/webhooks/stripe in Dashboard → Developers → Webhooks (or `stripe listen --forward-to localhost:8787/webhooks/stripe`) and set STRIPE_WEBHOOK_SECRET to its whsec_… secret.',
        },
      }
    : { summary, row: { ...base, status: 'ok', detail } };
}

/** The enabled actions' write permissions are probed with the tools' own. */
function withActionPermissions(needs: ReturnType<typeof capabilityNeeds>, settings: Settings): ReturnType<typeof capabilityNeeds> {
  return { ...needs, permissions: [...new Set([...needs.permissions, ...actionPermissionsToProbe(settings.ACTIONS_POLICY)])].sort() };
}

export interface Diagnosis {
  report: DoctorReport;
  /** What the report was made from, for the tool listing to take over (`/v1/status`). */
  capabilities: StripeCapabilities;
  services: ServiceHealth;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  return (await diagnose(options)).report;
}

export async function diagnose(options: DoctorOptions): Promise<Diagnosis> {
  const { settings, runtime } = options;
  const verificationOn = runtime.verification !== undefined;
  // As the server lists them: the action tools only where the actions policy turns them on (actions-check reports the policy).
  const tools = toolsForMode(options.tools, 'customer', verificationOn, runtime.actions);
  const [capabilities, mail, store, identity, cache, plans, audit, codeLocks, retention] = await Promise.all([
    probeStripeCapabilities(runtime.stripe, { ...withActionPermissions(capabilityNeeds(tools), settings), portalConfiguration: settings.PORTAL_CONFIGURATION }),
    mailCheck(runtime, names(tools.filter(needsMail))),
    storeCheck(runtime, settings, tools),
    checkIdentityTokens(settings, options.fetch),
    cacheCheck(runtime, settings),
    plansCheck(runtime, settings, tools),
    auditCheck(runtime, settings, options.demo ?? false),
    codeLockCheck(runtime, settings),
    retentionCouponCheck(runtime, settings, tools),
  ]);
  const services: ServiceHealth = {
    ...(mail.status === 'ok' || mail.status === 'fail' ? { mail: mail.status === 'ok' } : {}),
    ...(settings.STORE_URL ? { store: store.status !== 'fail' } : {}),
  };

  const checks = [
    keyCheck(runtime, capabilities, names(tools.filter((tool) => tool.permissions.length > 0))),
    ...permissionChecks(capabilities, tools),
    ...portalChecks(capabilities, tools, runtime.key.mode),
    mail,
    ...(codeLocks ? [codeLocks] : []),
    store,
    identityCheckRow(identity, verificationOn),
    panelCheck(settings),
    connectionsCheck(settings),
    cache.row,
    ...(plans ? [plans] : []),
    ...(retention ? [retention] : []),
    actionsCheck(settings.ACTIONS_POLICY, capabilities, { off: settings.AUDIT === 'off', row: audit, behind: runtime.audit?.status().state === 'behind' }),
    audit,
  ];
  const broken = checks.filter((check) => check.status === 'fail' || check.status === 'unknown');
  // The same rules that decide what is listed, plus what could not be checked.
  const toolRows = tools.map((tool) => {
    const reasons = [...toolBlockers(tool, capabilities, services), ...toolUnknowns(tool, capabilities)];
    return { name: tool.name, works: reasons.length === 0, reasons, without: toolLimitations(tool, capabilities) };
  });

  const report: DoctorReport = {
    ok: broken.length === 0,
    checked_at: new Date(capabilities.checkedAt).toISOString(),
    stripe: { connected: capabilities.key === 'accepted', key: runtime.key.redacted, key_kind: runtime.key.kind, mode: runtime.key.mode },
    permissions: Object.fromEntries(Object.entries(capabilities.permissions).map(([permission, outcome]) => [permission, outcome.state])),
    portal: capabilities.portal ?? null,
    store: { kind: settings.STORE_URL ? 'redis' : 'memory', status: store.status !== 'fail' ? 'ok' : 'unreachable' },
    mail: { status: mail.status === 'ok' ? 'ok' : mail.status === 'fail' ? 'fail' : 'off', detail: mail.detail },
    identity: { kind: identity.kind, status: identity.status },
    cache: cache.summary,
    tools: toolRows,
    checks,
  };
  return { report, capabilities, services };
}
