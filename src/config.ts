import { z } from 'zod';
import { readPolicyFile } from './actions/policy-file.js';
import { ConfigurationError } from './errors.js';

const list = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean));

const optionalUrl = (name: string, example: string) =>
  z
    .string()
    .optional()
    .refine((value) => value === undefined || value === '' || URL.canParse(value), {
      message: `${name} must be a URL, e.g. ${example}`,
    })
    .transform((value) => (value ? value : undefined));

/** https, or http to this machine only (a local relay, tests): for URLs whose path may itself be a secret. */
function isAllowedWebhookUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)));
}

/** An optional secret of at least 32 bytes; empty counts as unset. */
const secret = (name: string) =>
  z
    .string()
    .optional()
    .refine((value) => value === undefined || value === '' || Buffer.byteLength(value) >= 32, {
      message: `${name} must be at least 32 bytes (generate one with \`openssl rand -base64 48\`)`,
    })
    .transform((value) => (value ? value : undefined));

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `30m`, `24h`, `7d` → seconds. */
function durationSeconds(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(value.trim())!;
  return Number(match[1]) * (UNIT_SECONDS[(match[2] || 's').toLowerCase()] ?? 1);
}

/** A whole number within bounds; every message names the setting, its unit and its range. */
const wholeNumber = (name: string, unit: string, min: number, max: number) => {
  const message = `${name} must be a whole number of ${unit} from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
};

/** `https://chat.example.com` or `http://127.0.0.1:3000`: exactly what a browser sends as an origin. */
function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '').toLowerCase();
}

/**
 * ACTIONS_POLICY names a JSON file; the setting's value is the policy read from it, so a missing or
 * bad file stops every command at start, each problem naming the field. Unset: read-only.
 */
const actionsPolicy = z
  .string()
  .optional()
  .transform((path, ctx) => {
    if (!path) return undefined;
    const read = readPolicyFile(path);
    if (read.ok) return read.policy;
    for (const problem of read.problems) ctx.addIssue({ code: 'custom', message: `ACTIONS_POLICY: ${problem}` });
    return z.NEVER;
  });

/** The settings of DESIGN.md. Names are part of the interface: keep them. */
export const settingsSchema = z.object({
  STRIPE_API_KEY: z.string().optional(),
  STRIPE_API_BASE: optionalUrl('STRIPE_API_BASE', 'http://127.0.0.1:12111'),
  CUSTOMER_TOKEN: z.string().optional(),
  IDENTITY_SECRET: secret('IDENTITY_SECRET'),
  IDENTITY_JWKS_URL: optionalUrl('IDENTITY_JWKS_URL', 'https://app.example.com/.well-known/jwks.json'),
  IDENTITY_ISSUER: z.string().optional(),
  IDENTITY_AUDIENCE: z.string().optional(),
  IDENTITY_MAX_AGE: z
    .string()
    .optional()
    .refine((value) => value === undefined || value === '' || /^\d+\s*[smhd]?$/i.test(value.trim()), {
      message: 'IDENTITY_MAX_AGE must be a duration such as 3600, 30m, 24h or 7d',
    })
    .transform((value) => (value ? durationSeconds(value) : undefined)),
  VERIFY_MODE: z.enum(['code', 'trust-email'], { message: 'VERIFY_MODE must be `code` or `trust-email`' }).default('code'),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().optional(),
  MERCHANT_NAME: z.string().optional(),
  STORE_URL: z.string().optional(),
  STORE_MAX_ENTRIES: wholeNumber('STORE_MAX_ENTRIES', 'entries', 100, 100_000_000).default(100_000),
  VERIFY_SECRET: secret('VERIFY_SECRET'),
  GRANT_MAX_AGE_MINUTES: z.coerce.number({ message: 'GRANT_MAX_AGE_MINUTES must be a number of minutes' }).int().min(1).max(30 * 24 * 60).default(24 * 60),
  GRANT_IDLE_MINUTES: z.coerce.number({ message: 'GRANT_IDLE_MINUTES must be a number of minutes' }).int().min(1).max(30 * 24 * 60).default(60),
  TOOLS: list,
  WRITE_TOOLS: list,
  COUPON_ALLOWLIST: list,
  PLAN_PRODUCTS: list.refine((ids) => ids.every((id) => /^prod_[A-Za-z0-9]+$/.test(id)), {
    message: 'PLAN_PRODUCTS must be a comma list of product ids (prod_…)',
  }),
  PORTAL_RETURN_URL: optionalUrl('PORTAL_RETURN_URL', 'https://app.example.com/account'),
  PORTAL_CONFIGURATION: z
    .string()
    .optional()
    .refine((value) => !value || /^bpc_[A-Za-z0-9]+$/.test(value), { message: 'PORTAL_CONFIGURATION must be a portal configuration id (bpc_…)' })
    .transform((value) => (value ? value : undefined)),
  CANCEL_RETENTION_COUPON: z
    .string()
    .trim()
    .optional()
    .refine((value) => !value || /^[^\s,]{1,200}$/.test(value), { message: 'CANCEL_RETENTION_COUPON must be one coupon id' })
    .transform((value) => (value ? value : undefined)),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number({ message: 'PORT must be a number' }).int().min(0).max(65535).default(8787),
  HOST_KEYS: list,
  STAFF_KEYS: list,
  ALLOWED_ORIGINS: list,
  PANEL_FRAME_ANCESTORS: list.refine((origins) => origins.every(isOrigin), {
    message: 'PANEL_FRAME_ANCESTORS must be a comma list of origins such as https://app.chatwoot.com (scheme, host and optional port; no path)',
  }),
  PANEL_SESSION_SECRET: secret('PANEL_SESSION_SECRET'),
  PANEL_ORIGINS: list.refine((origins) => origins.every(isOrigin), {
    message: 'PANEL_ORIGINS must be a comma list of origins such as https://billing.example.com (scheme, host and optional port; no path)',
  }),
  TRUST_PROXY: z.coerce
    .number({ message: 'TRUST_PROXY must be the number of reverse proxies in front of the server (0 when none)' })
    .int()
    .min(0, { message: 'TRUST_PROXY must be 0 or more' })
    .max(10, { message: 'TRUST_PROXY must be at most 10' })
    .default(0),
  /** Open connections one client address may hold (of the server's 2048); behind TRUST_PROXY, requests in flight per forwarded address. */
  MAX_CONNECTIONS_PER_CLIENT: wholeNumber('MAX_CONNECTIONS_PER_CLIENT', 'connections', 1, 2048).default(256),
  /** How long an idle keep-alive connection stays open: above the 60 s idle timeout of common load balancers. */
  KEEP_ALIVE_SECONDS: wholeNumber('KEEP_ALIVE_SECONDS', 'seconds', 1, 3600).default(65),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .optional()
    .refine((value) => !value || value.startsWith('whsec_'), { message: 'STRIPE_WEBHOOK_SECRET must be the endpoint signing secret (whsec_…) from Dashboard → Developers → Webhooks or `stripe listen`' })
    .transform((value) => (value ? value : undefined)),
  CACHE_URL: z.string().optional().transform((value) => (value ? value : undefined)),
  CACHE_TTL_SECONDS: wholeNumber('CACHE_TTL_SECONDS', 'seconds', 1, 3600).default(60),
  STRIPE_RATE_LIMIT: wholeNumber('STRIPE_RATE_LIMIT', 'requests per second', 1, 10_000).optional(),
  CALLER_STRIPE_SHARE: wholeNumber('CALLER_STRIPE_SHARE', 'percent', 1, 100).default(80),
  HOST_CALLS_PER_MINUTE: wholeNumber('HOST_CALLS_PER_MINUTE', 'calls', 1, 1_000_000).default(6_000),
  CONVERSATION_CALLS_PER_MINUTE: wholeNumber('CONVERSATION_CALLS_PER_MINUTE', 'calls', 1, 100_000).default(60),
  CACHE_MAX_MB: wholeNumber('CACHE_MAX_MB', 'megabytes', 1, 4096).default(64),
  AUDIT: z
    .enum(['on', 'off', ''], { message: 'AUDIT must be `on` or `off`' })
    .optional()
    .transform((value) => (value ? value : undefined)),
  AUDIT_DB: z.string().optional().transform((value) => (value ? value : undefined)),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((value) => !value || /^postgres(ql)?:\/\//.test(value), { message: 'DATABASE_URL must be a Postgres URL (postgres://user:password@host:5432/database)' })
    .transform((value) => (value ? value : undefined)),
  AUDIT_RETENTION_DAYS: wholeNumber('AUDIT_RETENTION_DAYS', 'days', 1, 3650).default(90),
  AUDIT_BUFFER: wholeNumber('AUDIT_BUFFER', 'records', 1, 10_000_000).default(10_000),
  AUDIT_REQUIRED: z
    .enum(['true', 'false', '1', '0', ''], { message: 'AUDIT_REQUIRED must be true or false' })
    .optional()
    .transform((value) => value === 'true' || value === '1'),
  /** The keys the trail's chain is linked under, label:base64 newest first (checked where the trail opens). */
  AUDIT_KEY: z.string().optional().transform((value) => (value ? value : undefined)),
  AUDIT_ANCHOR_FILE: z.string().optional().transform((value) => (value ? value : undefined)),
  ADMIN_KEYS: list,
  TENANT_KEY_SECRET: z.string().optional().transform((value) => (value ? value : undefined)),
  PUBLIC_URL: optionalUrl('PUBLIC_URL', 'https://billing.example.com'),
  ACTIONS_POLICY: actionsPolicy,
  /** Where each request that waits for a staff approval is POSTed (Slack-compatible `text`), signed with APPROVAL_WEBHOOK_SECRET. */
  APPROVAL_WEBHOOK_URL: optionalUrl('APPROVAL_WEBHOOK_URL', 'https://hooks.slack.com/services/…').refine((value) => value === undefined || isAllowedWebhookUrl(value), {
    // Its path may be a secret (Slack's is): never over plain http beyond this machine.
    message: 'APPROVAL_WEBHOOK_URL must be an https:// URL (http:// only to 127.0.0.1 or localhost)',
  }),
  APPROVAL_WEBHOOK_SECRET: secret('APPROVAL_WEBHOOK_SECRET'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Settings = z.output<typeof settingsSchema>;

/** Parses settings from the environment; a bad value names the setting and the fix. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const result = settingsSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const setting = String(issue.path[0] ?? 'settings');
    return issue.message.includes(setting) ? `- ${issue.message}` : `- ${setting}: ${issue.message}`;
  });
  throw new ConfigurationError(`Invalid settings:\n${problems.join('\n')}`);
}
