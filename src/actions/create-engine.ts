/**
 * Builds the actions engine from the settings, or nothing: read-only stays the default, so
 * without an action the policy turns on there is no engine and no action tool. Requests live in
 * the trail's database, so an enabled action needs the trail (AUDIT is on by default for serve;
 * stdio turns it on when the policy enables an action).
 */
import type Stripe from 'stripe';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../log.js';
import { confirmationKeysFrom } from './confirmation-secret.js';
import { ActionsEngine, type ActionsEngineOptions, type ConfirmationMail } from './engine.js';
import { ACTION_KINDS, type ActionsPolicy } from './policy.js';
import { RequestStore } from './requests.js';

/** Whether a policy turns any action on. */
export function anyActionEnabled(policy: ActionsPolicy | undefined): boolean {
  return ACTION_KINDS.some((kind) => policy?.[kind]?.enabled === true);
}

/** What sends a confirmation link (the SMTP mailer or the demo outbox). */
export interface ConfirmationMailer {
  sendActionConfirmation?(mail: ConfirmationMail): Promise<void>;
}

export interface CreateEngineOptions {
  settings: Pick<Settings, 'ACTIONS_POLICY' | 'PUBLIC_URL'>;
  stripe: Stripe;
  invalidateCustomer: (customerId: string) => Promise<void>;
  log: Logger;
  audit: AuditTrail | undefined;
  tenantId?: string | undefined;
  mailer?: ConfirmationMailer | undefined;
  onAwaitingApproval?: ActionsEngineOptions['onAwaitingApproval'];
  /** Tests: the requests' clock and retry delays. */
  now?: () => number;
  execute?: ActionsEngineOptions['execute'];
}

export function createActionsEngine(options: CreateEngineOptions): ActionsEngine | undefined {
  const policy = options.settings.ACTIONS_POLICY;
  if (!anyActionEnabled(policy)) return undefined;
  if (!options.audit) {
    throw new ConfigurationError(
      'ACTIONS_POLICY turns actions on, but the audit trail is off (AUDIT=off): action requests and every step of them are kept in the trail’s database. Turn the trail on (AUDIT=on, or AUDIT_DB / DATABASE_URL).',
    );
  }
  const requests = new RequestStore(options.audit.store.sql, { keys: confirmationKeysFrom(options.audit.store.auditKeys), ...(options.now ? { now: options.now } : {}) });
  const mailer = options.mailer;
  return new ActionsEngine({
    requests,
    policy: () => policy,
    stripe: options.stripe,
    invalidateCustomer: options.invalidateCustomer,
    log: options.log.child({ component: 'actions' }),
    tenantId: options.tenantId ?? null,
    audit: options.audit,
    publicUrl: options.settings.PUBLIC_URL,
    sendConfirmation: mailer?.sendActionConfirmation ? (mail) => mailer.sendActionConfirmation!(mail) : undefined,
    onAwaitingApproval: options.onAwaitingApproval,
    execute: options.execute,
  });
}
