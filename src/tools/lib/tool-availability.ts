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
import type { AnyToolDefinition } from './define-tool.js';

export const AVAILABILITY_REFRESH_MS = 10 * 60_000;
/** A chat host waits for start-up: past this, tools are listed and the probe finishes later. */
export const FIRST_PROBE_TIMEOUT_MS = 5_000;

/** Why a tool cannot work with these capabilities, in words for logs and `doctor`; empty when it can (or when unknown). */
export function toolBlockers(tool: AnyToolDefinition, capabilities: StripeCapabilities): string[] {
  // Tools that never call Stripe (the code confirmation, the verification status) work without it.
  if (capabilities.key === 'refused') return tool.permissions.length > 0 ? ['Stripe refused the API key'] : [];
  const blockers = tool.permissions
    .filter((permission) => capabilities.permissions[permission]?.state === 'missing')
    .map((permission) => `the key lacks ${permission} (${PERMISSIONS[permission]?.label ?? permission})`);
  const portal = capabilities.portal;
  if (tool.portal && portal) {
    if (portal.status === 'not_configured') blockers.push('no default billing-portal configuration is saved');
    if (portal.status === 'configuration_missing') blockers.push('PORTAL_CONFIGURATION names a configuration that does not exist');
    if (portal.status === 'configuration_inactive') blockers.push('the billing-portal configuration is inactive');
    if (portal.status === 'ready' && tool.portal === 'cancel' && !portal.cancel_enabled) blockers.push('cancellation is switched off in the billing-portal configuration');
  }
  return blockers;
}

/** What the tools need probed: their permissions, and the portal set-up when any uses the portal. */
export function capabilityNeeds(tools: readonly AnyToolDefinition[]): { permissions: string[]; portalNeeded: boolean } {
  return {
    permissions: [...new Set(tools.flatMap((tool) => tool.permissions))].sort(),
    portalNeeded: tools.some((tool) => tool.portal !== undefined),
  };
}

export interface ToolAvailabilityOptions {
  stripe: Stripe;
  tools: readonly AnyToolDefinition[];
  portalConfiguration?: string | undefined;
  log: Logger;
  refreshMs?: number;
}

/**
 * The latest probe and the tools it rules out. Until the first probe answers (or when Stripe
 * does not), every tool stays listed: a tool call then fails with its own safe message.
 */
export class ToolAvailability {
  private latest: StripeCapabilities | undefined;
  private refreshing: Promise<StripeCapabilities> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** tool → the blockers last logged, so each change is logged once. */
  private readonly logged = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: ToolAvailabilityOptions) {}

  get capabilities(): StripeCapabilities | undefined {
    return this.latest;
  }

  isListed(tool: AnyToolDefinition): boolean {
    return !this.latest || toolBlockers(tool, this.latest).length === 0;
  }

  /** Runs the probe now (concurrent callers share one run) and tells listeners what changed. */
  refresh(): Promise<StripeCapabilities> {
    this.refreshing ??= probeStripeCapabilities(this.options.stripe, {
      ...capabilityNeeds(this.options.tools),
      portalConfiguration: this.options.portalConfiguration,
    })
      .then((capabilities) => {
        // A probe that reached nobody says nothing about permissions: keep the last known answer.
        if (capabilities.key !== 'unreachable' || !this.latest) this.apply(capabilities);
        return capabilities;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** The first probe (waited for up to FIRST_PROBE_TIMEOUT_MS), then a refresh every few minutes. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FIRST_PROBE_TIMEOUT_MS);
      timer.unref();
    });
    await Promise.race([this.refresh().then(() => undefined, () => undefined), timedOut]);
    clearTimeout(timer);
    this.timer ??= setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshMs ?? AVAILABILITY_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called after a probe changed which tools are listed (stdio tells its client). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(capabilities: StripeCapabilities): void {
    this.latest = capabilities;
    let changed = false;
    for (const tool of this.options.tools) {
      const blockers = toolBlockers(tool, capabilities);
      const signature = blockers.join('; ');
      if ((this.logged.get(tool.name) ?? '') === signature) continue;
      changed = true;
      this.logged.set(tool.name, signature);
      if (blockers.length > 0) {
        this.options.log.warn({ tool: tool.name, reasons: blockers }, 'tool left out of tools/list: it cannot work with this Stripe key and account (run `stripe-billing-mcp doctor`)');
      } else {
        this.options.log.info({ tool: tool.name }, 'tool listed again: the Stripe key and account now allow it');
      }
    }
    if (changed) for (const listener of this.listeners) listener();
  }
}

/** The start-up probe for a serving process: sets `runtime.availability` once the first probe answered (or timed out). */
export async function startToolAvailability(runtime: ToolRuntime, tools: readonly AnyToolDefinition[], portalConfiguration: string | undefined): Promise<ToolAvailability> {
  const availability = new ToolAvailability({ stripe: runtime.stripe, tools, portalConfiguration, log: runtime.log });
  await availability.start();
  runtime.availability = availability;
  return availability;
}
