/**
 * The server never offers the model a tool that cannot work: at start-up, and every few minutes
 * after, the Stripe key's permissions and the billing-portal set-up are probed (the same probe
 * as `doctor`), and tools that would only fail are left out of `tools/list`.
 */
import type Stripe from 'stripe';
import type { Logger } from '../../log.js';
import { probeStripeCapabilities, type StripeCapabilities } from '../../stripe/capabilities.js';
import { PERMISSIONS } from '../../stripe/permission-probes.js';
import type { ToolRuntime } from './context.js';
import type { ProbeKeeper } from './last-probe.js';
import type { AnyToolDefinition } from './define-tool.js';
import type { CodeMailer } from '../../verify/mailer.js';
import type { Store } from '../../verify/store.js';

export const AVAILABILITY_REFRESH_MS = 10 * 60_000;
/** A chat host waits for start-up: past this, tools are listed and the probe finishes later. */
export const FIRST_PROBE_TIMEOUT_MS = 5_000;

/** Services besides Stripe, as the last probe found them; absent when not configured. */
export interface ServiceHealth {
  /** SMTP_URL accepted the connection and login. */
  mail?: boolean;
  /** STORE_URL (Redis) answered PING. */
  store?: boolean;
}

export const needsMail = (tool: AnyToolDefinition): boolean => tool.sendsMail === true;
export const needsStore = (tool: AnyToolDefinition): boolean => tool.audience === 'verification' || tool.usesStore === true;

const KEY_REFUSED = 'Stripe refused the API key';

/** Why a tool cannot work, in words for logs and `doctor`; empty when it can (or when that is unknown). */
export function toolBlockers(tool: AnyToolDefinition, capabilities: StripeCapabilities, services: ServiceHealth = {}): string[] {
  const blockers: string[] = [];
  if (services.mail === false && needsMail(tool)) blockers.push('the mail server (SMTP_URL) refused the check, so no code can be sent');
  if (services.store === false && needsStore(tool)) blockers.push('the shared store (STORE_URL) did not answer');
  // Tools that never call Stripe (the code confirmation, the verification status) work without it.
  if (tool.permissions.length === 0) return blockers;
  if (capabilities.key === 'refused') return [...blockers, KEY_REFUSED];
  blockers.push(
    ...tool.permissions
      .filter((permission) => capabilities.permissions[permission]?.state === 'missing')
      .map((permission) => `the key lacks ${permission} (${PERMISSIONS[permission]?.label ?? permission})`),
  );
  const portal = capabilities.portal;
  if (tool.portal && portal) {
    if (portal.status === 'not_configured') blockers.push('no default billing-portal configuration is saved');
    if (portal.status === 'configuration_missing') blockers.push('PORTAL_CONFIGURATION names a configuration that does not exist');
    if (portal.status === 'configuration_inactive') blockers.push('the billing-portal configuration is inactive');
    if (portal.status === 'ready' && tool.portal === 'cancel' && !portal.cancel_enabled) blockers.push('cancellation is switched off in the billing-portal configuration');
  }
  return blockers;
}

/** Every permission a tool uses: the ones it needs, then the ones that only add a section. */
export const permissionsUsed = (tool: AnyToolDefinition): string[] => [...tool.permissions, ...Object.keys(tool.optionalPermissions ?? {})];

/**
 * What a listed tool answers without, for `doctor` ("works, without …"): each section whose
 * optional permission the key lacks, with the permission's Dashboard name.
 */
export function toolLimitations(tool: AnyToolDefinition, capabilities: StripeCapabilities): string[] {
  if (capabilities.key !== 'accepted') return [];
  return Object.entries(tool.optionalPermissions ?? {})
    .filter(([permission]) => capabilities.permissions[permission]?.state === 'missing')
    .map(([permission, section]) => `${section} (needs “${PERMISSIONS[permission]?.label ?? permission}”)`);
}

/**
 * What could not be checked for a tool (Stripe did not answer): such a tool stays listed, but
 * `doctor` will not vouch for it.
 */
export function toolUnknowns(tool: AnyToolDefinition, capabilities: StripeCapabilities): string[] {
  if (tool.permissions.length === 0 || capabilities.key === 'refused') return [];
  if (capabilities.key === 'unreachable') return ['Stripe could not be reached'];
  const unknowns = tool.permissions
    .filter((permission) => capabilities.permissions[permission]?.state !== 'granted' && capabilities.permissions[permission]?.state !== 'missing')
    .map((permission) => `${permission} could not be checked`);
  if (tool.portal && capabilities.portal?.status === 'unknown') unknowns.push(`the billing portal could not be checked: ${capabilities.portal.reason}`);
  return unknowns;
}

/** What the tools need probed: their permissions, and the portal set-up when any uses the portal. */
export function capabilityNeeds(tools: readonly AnyToolDefinition[]): { permissions: string[]; portalNeeded: boolean } {
  return {
    permissions: [...new Set(tools.flatMap(permissionsUsed))].sort(),
    portalNeeded: tools.some((tool) => tool.portal !== undefined),
  };
}

export interface ToolAvailabilityOptions {
  stripe: Stripe;
  tools: readonly AnyToolDefinition[];
  portalConfiguration?: string | undefined;
  /** The SMTP mailer, when codes are mailed (not the demo outbox). */
  mailer?: CodeMailer | undefined;
  /** The shared store, when it is Redis. */
  store?: Store | undefined;
  log: Logger;
  /** The key as logs may show it (`rk_test_…abcd`) and where it is set, for the one line a refused key gets. */
  key?: { redacted: string; setting: string } | undefined;
}

/** While Stripe, mail or the store do not answer, look again soon: outages end in minutes. */
export const RETRY_MS = 60_000;

/**
 * The latest probe and the tools it rules out. Until the first probe answers (or when Stripe
 * does not), every tool stays listed: a tool call then fails with its own safe message.
 */
export class ToolAvailability {
  private latest: StripeCapabilities | undefined;
  private services: ServiceHealth = {};
  private refreshing: Promise<StripeCapabilities> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** tool → the blockers last logged, so each change is logged once. */
  private readonly logged = new Map<string, string>();
  /** What Stripe last said of the key, as logged: a refused or unreachable Stripe gets one line, not one per tool. */
  private loggedKey: StripeCapabilities['key'] | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: ToolAvailabilityOptions) {}

  isListed(tool: AnyToolDefinition): boolean {
    return this.blockers(tool).length === 0;
  }

  /** The last probe found the key without this permission (an optional section is then skipped). */
  lacks(permission: string): boolean {
    return this.latest?.permissions[permission]?.state === 'missing';
  }

  /** By name, for messages that point the model at another tool. Unknown names are not listed. */
  isListedByName(name: string): boolean {
    const tool = this.options.tools.find((candidate) => candidate.name === name);
    return tool !== undefined && this.isListed(tool);
  }

  /** Runs the probe now (concurrent callers share one run) and tells listeners what changed. */
  refresh(): Promise<StripeCapabilities> {
    this.refreshing ??= Promise.all([
      probeStripeCapabilities(this.options.stripe, { ...capabilityNeeds(this.options.tools), portalConfiguration: this.options.portalConfiguration }),
      this.probeServices(),
    ])
      .then(([capabilities, services]) => {
        this.record(capabilities, services);
        return capabilities;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Takes a probe made elsewhere (`/v1/status` runs the doctor's, which checks the same things). */
  record(capabilities: StripeCapabilities, services: ServiceHealth): void {
    this.services = services;
    // A probe that reached nobody says nothing about permissions: keep the last known answer.
    if (capabilities.key !== 'unreachable' || !this.latest) this.latest = capabilities;
    this.announceKey(capabilities);
    this.announceChanges();
  }

  /**
   * Without waiting for Stripe: the last probe kept on disk (if any) decides the list now; the
   * probe runs in the background, narrows or widens the list when it answers (listeners are told,
   * so stdio clients get list_changed) and is kept for the next launch. With `after`, the probe
   * waits for it (stdio: the first tools/list answered), so its TLS and DNS do not delay that.
   */
  async startFromLastProbe(file: ProbeKeeper, after: Promise<void> = Promise.resolve()): Promise<void> {
    const last = await file.load();
    if (last) this.record(last.capabilities, last.services);
    void after
      .then(() => this.refresh())
      .then((capabilities) => (capabilities.key === 'unreachable' ? undefined : file.save({ capabilities, services: this.services })))
      .catch((error: unknown) => this.options.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'probe not kept'))
      .finally(() => this.scheduleNext());
  }

  /** The first probe (waited for up to FIRST_PROBE_TIMEOUT_MS), then one every few minutes. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FIRST_PROBE_TIMEOUT_MS);
      timer.unref();
    });
    const answered = await Promise.race([this.refresh().then(() => true, () => true), timedOut.then(() => false)]);
    clearTimeout(timer);
    if (!answered && this.loggedKey === undefined) {
      this.loggedKey = 'unreachable';
      this.options.log.warn(
        `Stripe has not answered the start-up check within ${FIRST_PROBE_TIMEOUT_MS / 1000} s: every tool stays listed, and calls fail as "temporarily unavailable" while Stripe does not answer. Check the network (and STRIPE_API_BASE, if set); \`stripe-billing-mcp doctor\` checks the set-up.`,
      );
    }
    this.scheduleNext();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Called after a probe changed which tools are listed (stdio tells its client). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private blockers(tool: AnyToolDefinition): string[] {
    return this.latest ? toolBlockers(tool, this.latest, this.services) : [];
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const latest = this.latest;
    // A missing permission stays missing until someone edits the key: no need to ask every minute.
    const transient =
      !latest ||
      latest.key === 'unreachable' ||
      Object.values(latest.permissions).some((outcome) => outcome.state === 'unknown') ||
      latest.portal?.status === 'unknown' ||
      this.services.mail === false ||
      this.services.store === false;
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined).finally(() => this.scheduleNext()), transient ? RETRY_MS : AVAILABILITY_REFRESH_MS);
    this.timer.unref();
  }

  private async probeServices(): Promise<ServiceHealth> {
    const { mailer, store } = this.options;
    const [mail, storeUp] = await Promise.all([
      mailer?.verify ? mailer.verify({ quiet: true }).then(() => true, () => false) : Promise.resolve(undefined),
      store ? store.ping().catch(() => false) : Promise.resolve(undefined),
    ]);
    return { ...(mail !== undefined ? { mail } : {}), ...(storeUp !== undefined ? { store: storeUp } : {}) };
  }

  /**
   * One line when Stripe starts refusing the key or stops answering, and one when that ends: a
   * revoked key would otherwise log every tool that reads Stripe, and an unreachable Stripe nothing.
   */
  private announceKey(capabilities: StripeCapabilities): void {
    const previous = this.loggedKey;
    if (capabilities.key === previous) return;
    this.loggedKey = capabilities.key;
    const { log, key } = this.options;
    if (capabilities.key === 'refused') {
      const leftOut = this.options.tools.filter((tool) => tool.permissions.length > 0).length;
      log.warn(
        `Stripe refused the API key${key ? ` (${key.redacted})` : ''}: it is revoked, rolled or mistyped. The ${leftOut} tools that read Stripe are left out of tools/list until ${key?.setting ?? 'STRIPE_API_KEY'} holds a working key (create a restricted key in Dashboard → Developers → API keys); \`stripe-billing-mcp doctor\` checks it.`,
      );
    } else if (capabilities.key === 'unreachable') {
      const reason = Object.values(capabilities.permissions).find((outcome) => outcome.reason)?.reason ?? 'no answer';
      log.warn(
        `Stripe could not be checked (${reason.replace(/^Stripe /, '')}): every tool stays listed, and calls fail as "temporarily unavailable" while Stripe does not answer; checking again every minute. Check the network (and STRIPE_API_BASE, if set); \`stripe-billing-mcp doctor\` checks the set-up.`,
      );
    } else if (previous !== undefined) {
      log.info('Stripe answers and accepts the key again');
    }
  }

  private announceChanges(): void {
    let changed = false;
    const relisted: string[] = [];
    for (const tool of this.options.tools) {
      const blockers = this.blockers(tool);
      const signature = blockers.join('; ');
      if ((this.logged.get(tool.name) ?? '') === signature) continue;
      changed = true;
      this.logged.set(tool.name, signature);
      if (blockers.length === 0) relisted.push(tool.name);
      // A refused key was told in one line (announceKey); what else blocks a tool is still told per tool.
      else if (blockers.some((blocker) => blocker !== KEY_REFUSED)) {
        this.options.log.warn({ tool: tool.name, reasons: blockers }, 'tool left out of tools/list: it cannot work with this set-up (run `stripe-billing-mcp doctor`)');
      }
    }
    if (relisted.length > 0) this.options.log.info({ tools: relisted }, `${relisted.length === 1 ? 'tool' : 'tools'} listed again: the set-up now allows ${relisted.length === 1 ? 'it' : 'them'}`);
    if (changed) for (const listener of this.listeners) listener();
  }
}

/**
 * The start-up probe: sets `runtime.availability`. `serve` waits for the first probe (or its
 * timeout); stdio (`lastProbe`) starts from the probe kept by its last launch and never waits.
 */
export async function startToolAvailability(
  runtime: ToolRuntime,
  tools: readonly AnyToolDefinition[],
  settings: { PORTAL_CONFIGURATION?: string | undefined; STORE_URL?: string | undefined },
  lastProbe?: ProbeKeeper,
  probeAfter?: Promise<void>,
): Promise<ToolAvailability> {
  const verification = runtime.verification;
  const availability = new ToolAvailability({
    stripe: runtime.stripe,
    tools,
    portalConfiguration: settings.PORTAL_CONFIGURATION,
    mailer: verification?.mode === 'code' && verification.mailer.transport === 'smtp' ? verification.mailer : undefined,
    store: settings.STORE_URL ? runtime.store : undefined,
    log: runtime.log,
    // A merchant's key in platform mode is set through the admin API, not an environment variable.
    key: { redacted: runtime.key.redacted, setting: runtime.tenantId ? `the merchant's stripe_api_key (PATCH /v1/admin/tenants/${runtime.tenantId})` : 'STRIPE_API_KEY' },
  });
  if (lastProbe) await availability.startFromLastProbe(lastProbe, probeAfter);
  else await availability.start();
  runtime.availability = availability;
  return availability;
}
