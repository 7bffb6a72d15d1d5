import { ACTION_PERMISSIONS, ACTION_TOOLS } from '../actions/action-permissions.js';
import { enabledActions, type ActionsPolicy } from '../actions/policy.js';
import type { StripeCapabilities } from '../stripe/capabilities.js';
import { isProbeable, PERMISSIONS } from '../stripe/permission-probes.js';
import type { DoctorCheck } from './run-doctor.js';

const KEY_PAGE = 'Dashboard → Developers → API keys';

/** The write permissions the enabled actions need that a probe may check (never a money-moving endpoint). */
export function actionPermissionsToProbe(policy: ActionsPolicy | undefined): string[] {
  return [...new Set(enabledActions(policy).flatMap((kind) => ACTION_PERMISSIONS[kind]))].filter(isProbeable);
}

/** The audit trail as the actions need it: requests and each of their steps live in its database. */
export interface ActionsTrail {
  /** AUDIT=off: `serve` and stdio refuse to start with an action enabled. */
  off: boolean;
  /** The audit row of the same report (whether its database opens). */
  row: DoctorCheck;
  /** A running server's trail cannot write to its database now. */
  behind: boolean;
}

/** Why no request can be made with this trail, or nothing. */
function trailProblem(trail: ActionsTrail | undefined): Pick<DoctorCheck, 'status' | 'detail' | 'fix'> | undefined {
  if (!trail) return undefined;
  if (trail.off) {
    return {
      status: 'fail',
      detail: 'the audit trail is off (AUDIT=off), and action requests are kept in its database: serve and stdio will not start',
      fix: 'Turn the trail on (unset AUDIT, or AUDIT=on with AUDIT_DB or DATABASE_URL), or turn the actions off in ACTIONS_POLICY.',
    };
  }
  if (trail.row.status === 'fail' || trail.behind) {
    return {
      status: 'fail',
      detail: 'the audit trail’s database is not available (see the audit trail row), and action requests are kept there: none can be made, confirmed or carried out until it is',
      ...(trail.row.fix ? { fix: trail.row.fix } : {}),
    };
  }
  return undefined;
}

/**
 * One row for the actions policy: which actions ACTIONS_POLICY turns on, and for each the Stripe
 * permission the key still lacks. A missing permission fails the row: the action's tools would
 * not be listed. Reads only (the probes are those of permission-probes.ts); the money-moving
 * permissions are named, never probed.
 */
export function actionsCheck(policy: ActionsPolicy | undefined, capabilities: StripeCapabilities, trail?: ActionsTrail): DoctorCheck {
  const base = { id: 'actions', title: 'Actions policy' };
  if (!policy) return { ...base, status: 'off', detail: 'no ACTIONS_POLICY: read-only, no refund, credit, pause, plan change or invoice payment can be requested', affects: [] };
  const enabled = enabledActions(policy);
  if (enabled.length === 0) return { ...base, status: 'off', detail: 'ACTIONS_POLICY enables no action: read-only', affects: [] };
  const affects = enabled.flatMap((kind) => ACTION_TOOLS[kind]);
  const on = `enabled: ${enabled.join(', ')}`;
  const database = trailProblem(trail);
  if (database) return { ...base, ...database, detail: `${on}; ${database.detail}`, affects };
  if (capabilities.key !== 'accepted') {
    return { ...base, status: 'unknown', detail: `${on}; their permissions could not be checked (${capabilities.key === 'refused' ? 'Stripe refused the key' : 'Stripe could not be reached'})`, affects, fix: 'Fix the Stripe key row above, then run doctor again.' };
  }
  const lacking: string[] = [];
  const unknown: string[] = [];
  const unchecked: string[] = [];
  const grants = new Set<string>();
  for (const kind of enabled) {
    for (const permission of ACTION_PERMISSIONS[kind]) {
      const label = `${PERMISSIONS[permission]?.label ?? permission} (${permission})`;
      if (!isProbeable(permission)) {
        unchecked.push(label);
        continue;
      }
      const state = capabilities.permissions[permission]?.state ?? 'unknown';
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
  if (unchecked.length > 0) {
    // Checking these would mean calling an endpoint that moves money, which only a confirmed request may do.
    const names = [...new Set(unchecked)].join(' and ');
    return { ...base, status: 'warn', detail: `${on}; doctor does not check ${names}: only a confirmed request calls those endpoints`, affects, fix: `Make sure the restricted key grants ${names}: ${KEY_PAGE} → the key.` };
  }
  return { ...base, status: 'ok', detail: `${on}; the key has every permission they need`, affects };
}
