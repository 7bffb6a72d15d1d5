import { ACTION_PERMISSIONS, ACTION_TOOLS } from '../actions/action-permissions.js';
import { enabledActions, type ActionsPolicy } from '../actions/policy.js';
import type { StripeCapabilities } from '../stripe/capabilities.js';
import { PERMISSIONS } from '../stripe/permission-probes.js';
import type { DoctorCheck } from './run-doctor.js';

const KEY_PAGE = 'Dashboard → Developers → API keys';

/** The write permissions the enabled actions need, for the doctor's probe. */
export function actionPermissionsToProbe(policy: ActionsPolicy | undefined): string[] {
  return [...new Set(enabledActions(policy).flatMap((kind) => ACTION_PERMISSIONS[kind]))];
}

/**
 * One row for the actions policy: which actions ACTIONS_POLICY turns on, and for each the Stripe
 * permission the key still lacks. A missing permission fails the row: the action's tools would
 * not be listed. Reads only (the probes are those of permission-probes.ts).
 */
export function actionsCheck(policy: ActionsPolicy | undefined, capabilities: StripeCapabilities): DoctorCheck {
  const base = { id: 'actions', title: 'Actions policy' };
  if (!policy) return { ...base, status: 'off', detail: 'no ACTIONS_POLICY: read-only, no refund, credit, pause or plan change can be requested', affects: [] };
  const enabled = enabledActions(policy);
  if (enabled.length === 0) return { ...base, status: 'off', detail: 'ACTIONS_POLICY enables no action: read-only', affects: [] };
  const affects = enabled.flatMap((kind) => ACTION_TOOLS[kind]);
  const on = `enabled: ${enabled.join(', ')}`;
  if (capabilities.key !== 'accepted') {
    return { ...base, status: 'unknown', detail: `${on}; their permissions could not be checked (${capabilities.key === 'refused' ? 'Stripe refused the key' : 'Stripe could not be reached'})`, affects, fix: 'Fix the Stripe key row above, then run doctor again.' };
  }
  const lacking: string[] = [];
  const unknown: string[] = [];
  const grants = new Set<string>();
  for (const kind of enabled) {
    for (const permission of ACTION_PERMISSIONS[kind]) {
      const state = capabilities.permissions[permission]?.state ?? 'unknown';
      const label = `${PERMISSIONS[permission]?.label ?? permission} (${permission})`;
      if (state === 'missing') {
        lacking.push(`${kind} lacks ${label}`);
        grants.add(label);
      } else if (state === 'unknown') unknown.push(`${kind}: ${label} could not be checked`);
    }
  }
  if (lacking.length > 0) {
    return { ...base, status: 'fail', detail: `${on}; ${[...lacking, ...unknown].join('; ')}`, affects, fix: `Grant ${[...grants].join(' and ')} to the restricted key: ${KEY_PAGE} → the key → Edit; or turn the action off in ACTIONS_POLICY.` };
  }
  if (unknown.length > 0) return { ...base, status: 'unknown', detail: `${on}; ${unknown.join('; ')}`, affects, fix: 'Run doctor again in a minute.' };
  return { ...base, status: 'ok', detail: `${on}; the key has every permission they need`, affects };
}
