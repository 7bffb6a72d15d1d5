import type { Settings } from '../config.js';
import { diagnose } from '../doctor/run-doctor.js';
import type { Logger } from '../log.js';
import { createRuntime } from '../runtime.js';
import type { StripeClientOptions } from '../stripe/client.js';
import { parseStripeKey } from '../stripe/key.js';
import { selectTools } from '../tools/registry.js';
import { tenantInputError, type TenantProber } from './tenants.js';

/** Doctor's fixes name the server's settings; for a merchant they are fields of the admin API's JSON. */
const TENANT_FIELDS: Record<string, string> = {
  STRIPE_API_KEY: 'stripe_api_key',
  PORTAL_CONFIGURATION: 'settings.portal_configuration',
  PORTAL_RETURN_URL: 'settings.portal_return_url',
  PLAN_PRODUCTS: 'settings.plan_products',
  WRITE_TOOLS: 'settings.write_tools',
  MAIL_FROM: 'settings.mail_from',
  MERCHANT_NAME: 'settings.merchant_name',
  ACTIONS_POLICY: 'settings.actions',
  CANCEL_RETENTION_COUPON: 'settings.cancel_retention_coupon',
};

function inTenantTerms(text: string): string {
  return text.replace(/\b(STRIPE_API_KEY|PORTAL_CONFIGURATION|PORTAL_RETURN_URL|PLAN_PRODUCTS|WRITE_TOOLS|MAIL_FROM|MERCHANT_NAME|ACTIONS_POLICY|CANCEL_RETENTION_COUPON)\b/g, (name) => TENANT_FIELDS[name]!);
}

/**
 * The connect check: doctor's own probe of the merchant's key, so the admin answer says which
 * tools work and, for the others, which permission or portal setting is missing and where to
 * grant it. A key Stripe does not accept is refused, and nothing is stored.
 */
export function tenantProber(base: Settings, log: Logger, fetch?: StripeClientOptions['fetch']): TenantProber {
  return async (stripeKey, own) => {
    // Only the Stripe side: no store, mail or audit checks per connect.
    const settings: Settings = { ...base, STRIPE_API_KEY: stripeKey, STORE_URL: undefined, CACHE_URL: undefined, SMTP_URL: undefined, AUDIT: 'off', PORTAL_CONFIGURATION: own.portal_configuration, CANCEL_RETENTION_COUPON: own.cancel_retention_coupon, ACTIONS_POLICY: own.actions, HOST_KEYS: [], STAFF_KEYS: [] };
    let runtime;
    try {
      parseStripeKey(stripeKey, 'stripe_api_key');
      runtime = createRuntime({ settings, log, fetch, maxNetworkRetries: 1, actions: false });
    } catch (error) {
      throw tenantInputError(error instanceof Error ? inTenantTerms(error.message) : 'stripe_api_key is not a usable Stripe key');
    }
    try {
      const tools = selectTools({ allowlist: base.TOOLS, writeTools: own.write_tools ?? [] });
      const { report, capabilities, services } = await diagnose({ settings, runtime, tools });
      if (capabilities.key === 'refused') throw tenantInputError('Stripe did not accept this key: it is revoked, rolled or mistyped. Create a restricted key in Dashboard → Developers → API keys.');
      if (capabilities.key === 'unreachable') throw tenantInputError('Stripe could not be reached to check this key. Try again in a minute.');
      const fixes = new Map(report.checks.filter((check) => check.fix).flatMap((check) => check.affects.map((tool) => [tool, inTenantTerms(check.fix!)] as const)));
      return {
        probe: {
          checked_at: report.checked_at,
          tools: report.tools.map((row) => ({ ...row, reasons: row.works ? [] : [...row.reasons.map(inTenantTerms), ...(fixes.get(row.name) ? [`Fix: ${fixes.get(row.name)}`] : [])] })),
        },
        last: { capabilities, services },
      };
    } finally {
      await Promise.all([runtime.store.close(), runtime.reads.close(), runtime.budget.close()]);
    }
  };
}
