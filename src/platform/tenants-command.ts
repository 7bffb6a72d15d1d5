/**
 * `stripe-billing-mcp tenants add|list|show|rotate-key|remove|rotate-kek`: the admin API's
 * operations from a shell, on the same database and TENANT_KEY_SECRET as `serve --platform`.
 * Secrets never come from the command line (shell history): the Stripe key is read from
 * TENANT_STRIPE_API_KEY and the webhook signing secret from TENANT_WEBHOOK_SECRET.
 */
import { loadSettings } from '../config.js';
import { ConfigurationError, ToolError } from '../errors.js';
import { createLogger } from '../log.js';
import { KeyringError } from './keyring.js';
import { openTenants } from './serve-platform.js';
import { createStore } from '../verify/create-store.js';
import { tenantStorePrefix } from './tenant-apps.js';
import { tenantProber } from './tenant-probe.js';

export interface TenantsFlags {
  name?: string | undefined;
  settings?: string | undefined;
  kind?: string | undefined;
  json: boolean;
}

const USAGE = 'Use: tenants add --name … (key in TENANT_STRIPE_API_KEY), tenants list, tenants show <id>, tenants rotate-key <id> --kind host|staff, tenants remove <id>, tenants rotate-kek.';

async function out(value: unknown, text: string, json: boolean): Promise<void> {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

export async function runTenantsCommand(action: string | undefined, id: string | undefined, flags: TenantsFlags): Promise<number> {
  const settings = loadSettings(process.env);
  const log = createLogger({ level: settings.LOG_LEVEL });
  if (!['add', 'list', 'show', 'rotate-key', 'remove', 'rotate-kek'].includes(action ?? '')) throw new ConfigurationError(`Unknown tenants action "${action ?? ''}". ${USAGE}`);
  if (['show', 'rotate-key', 'remove'].includes(action!) && !id) throw new ConfigurationError(`tenants ${action} needs the tenant id (ten_…).`);
  // The pepper is decrypted on open: a TENANT_KEY_SECRET without its key is a setting to fix, like the rest.
  const { tenants, database } = await openTenants(settings, log).catch((error: unknown) => {
    throw error instanceof KeyringError ? new ConfigurationError(error.message) : error;
  });
  try {
    switch (action) {
      case 'add': {
        let extra: unknown = {};
        try {
          extra = flags.settings ? JSON.parse(flags.settings) : {};
        } catch {
          throw new ConfigurationError('--settings must be JSON, e.g. {"write_tools":["apply_coupon"]}.');
        }
        if (!process.env.TENANT_STRIPE_API_KEY) throw new ConfigurationError("tenants add reads the merchant's Stripe key from TENANT_STRIPE_API_KEY (never from an argument): set it.");
        const created = await tenants.create(
          { name: flags.name ?? '', stripe_api_key: process.env.TENANT_STRIPE_API_KEY ?? '', ...(process.env.TENANT_WEBHOOK_SECRET ? { webhook_secret: process.env.TENANT_WEBHOOK_SECRET } : {}), settings: extra },
          tenantProber(settings, log),
        );
        const view = await tenants.view(created.tenant, settings.PUBLIC_URL?.replace(/\/$/, '') ?? '');
        const working = (view.tools ?? []).filter((tool) => tool.works).map((tool) => tool.name);
        await out({ tenant: view, host_key: created.host_key, staff_key: created.staff_key }, [`Connected ${view.name} (${view.id}, ${view.mode}).`, `Host key (shown once):  ${created.host_key}`, `Staff key (shown once): ${created.staff_key}`, `Webhook endpoint: ${view.webhook_url}`, `Tools that work: ${working.join(', ') || 'none'}`, ...(view.tools ?? []).filter((tool) => !tool.works).map((tool) => `  ✗ ${tool.name}: ${tool.reasons.join(' ')}`)].join('\n'), flags.json);
        return 0;
      }
      case 'list': {
        const views = await Promise.all((await tenants.store.list()).map((tenant) => tenants.view(tenant)));
        await out({ tenants: views }, views.length === 0 ? 'No tenants.' : views.map((view) => `${view.id}  ${view.mode}  ${view.name}  updated ${view.updated_at}`).join('\n'), flags.json);
        return 0;
      }
      case 'show': {
        const tenant = await tenants.get(id!);
        if (!tenant) throw new ConfigurationError(`No tenant ${id}.`);
        const view = await tenants.view(tenant);
        await out({ tenant: view }, JSON.stringify(view, null, 2), flags.json);
        return 0;
      }
      case 'rotate-key': {
        if (flags.kind !== 'host' && flags.kind !== 'staff') throw new ConfigurationError('tenants rotate-key needs --kind host or --kind staff.');
        const key = await tenants.rotateKey(id!, flags.kind);
        if (!key) throw new ConfigurationError(`No tenant ${id}.`);
        await out({ kind: flags.kind, key }, `New ${flags.kind} key (shown once; the old one stopped working): ${key}`, flags.json);
        return 0;
      }
      case 'remove': {
        if (!(await tenants.remove(id!))) throw new ConfigurationError(`No tenant ${id}.`);
        // Its grants, codes, sessions and limits in the shared Redis go now too (memory stores die with their process).
        if (settings.STORE_URL) {
          const store = createStore(settings.STORE_URL);
          try {
            await store.deleteByPrefix(tenantStorePrefix(id!));
          } finally {
            await store.close();
          }
        }
        await out({ removed: id }, `Removed ${id}: its key and bearer keys are gone; running servers drop it within seconds. Its audit records stay.`, flags.json);
        return 0;
      }
      default: {
        const rotated = await tenants.rotateKek();
        await out(rotated, `Re-encrypted ${rotated.tenants} tenants under key ${rotated.key_id}; older keys may now leave TENANT_KEY_SECRET.`, flags.json);
        return 0;
      }
    }
  } catch (error) {
    // The admin API's messages name its JSON field; from a shell, the key came from TENANT_STRIPE_API_KEY.
    if (error instanceof ToolError && error.kind === 'input') throw new ConfigurationError(error.message.replace(/\bstripe_api_key\b/g, 'TENANT_STRIPE_API_KEY'));
    if (error instanceof KeyringError) throw new ConfigurationError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}
