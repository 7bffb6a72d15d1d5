/**
 * What this Stripe key can do on this account: its permissions and the billing-portal set-up.
 * Shared by `doctor`, the start-up probe that decides which tools are listed, and `/v1/status`.
 * Every request is a read, or a write aimed at an id that cannot exist: nothing changes.
 */
import type Stripe from 'stripe';
import { classifyProbeError, probePermissions, type ProbeOutcome } from './permission-probes.js';

export type PortalState =
  | { status: 'ready'; configuration: string; cancel_enabled: boolean }
  /** No default configuration saved, or PORTAL_CONFIGURATION names one that is missing or inactive. */
  | { status: 'not_configured' | 'configuration_missing' | 'configuration_inactive'; configuration?: string }
  /** Could not be checked: the key cannot read portal configurations (`no_permission`), or Stripe did not answer. */
  | { status: 'unknown'; cause: 'no_permission' | 'no_answer'; reason: string };

export interface StripeCapabilities {
  /** Unix ms. */
  checkedAt: number;
  /** `refused`: 401, the key is revoked, rolled or mistyped. `unreachable`: no probe got an answer. */
  key: 'accepted' | 'refused' | 'unreachable';
  permissions: Record<string, ProbeOutcome>;
  /** Absent when no enabled tool needs the billing portal. */
  portal?: PortalState;
}

export interface CapabilityProbeOptions {
  permissions: readonly string[];
  portalNeeded: boolean;
  /** PORTAL_CONFIGURATION: check this configuration instead of the account's default. */
  portalConfiguration?: string | undefined;
}

async function probePortal(stripe: Stripe, configurationId: string | undefined): Promise<PortalState> {
  let configuration: Stripe.BillingPortal.Configuration | undefined;
  try {
    if (configurationId) {
      configuration = await stripe.billingPortal.configurations.retrieve(configurationId);
    } else {
      configuration = (await stripe.billingPortal.configurations.list({ is_default: true, limit: 1 })).data[0];
    }
  } catch (error) {
    const outcome = classifyProbeError(error);
    if (outcome.state === 'missing') return { status: 'unknown', cause: 'no_permission', reason: 'the key cannot read portal configurations (rak_billing_portal_configuration_read)' };
    if (outcome.state === 'granted' && configurationId) return { status: 'configuration_missing', configuration: configurationId };
    return { status: 'unknown', cause: 'no_answer', reason: outcome.reason ?? 'the check failed' };
  }
  if (!configuration) return { status: 'not_configured' };
  if (!configuration.active) return { status: 'configuration_inactive', configuration: configuration.id };
  return { status: 'ready', configuration: configuration.id, cancel_enabled: configuration.features.subscription_cancel.enabled };
}

export async function probeStripeCapabilities(stripe: Stripe, options: CapabilityProbeOptions): Promise<StripeCapabilities> {
  const [outcomes, portal] = await Promise.all([
    probePermissions(stripe, options.permissions),
    options.portalNeeded ? probePortal(stripe, options.portalConfiguration) : Promise.resolve(undefined),
  ]);
  const all = [...outcomes.values()];
  const key = all.some((outcome) => outcome.keyRefused)
    ? 'refused'
    : all.length > 0 && all.every((outcome) => outcome.state === 'unknown')
      ? 'unreachable'
      : 'accepted';
  return {
    checkedAt: Date.now(),
    key,
    permissions: Object.fromEntries(outcomes),
    ...(portal ? { portal: key === 'refused' ? { status: 'unknown', cause: 'no_answer', reason: 'Stripe refused the key' } : portal } : {}),
  };
}
