#!/usr/bin/env node
// The entry point loads nothing heavy: --help and --version answer at once, and each command
// imports what it needs (the MCP SDK and Stripe only for stdio, serve and doctor).
import { parseArgs } from 'node:util';
import { checkFlags } from './cli-flags.js';
import { commandHelp, isHelpTopic } from './cli-help.js';
import { ConfigurationError, StartupError } from './errors.js';
import { flushLogs } from './log.js';
import { SERVER_VERSION } from './version.js';

const HELP = `stripe-billing-mcp ${SERVER_VERSION}
Answer a merchant's customers' billing questions from Stripe, safely, over MCP.

Usage:
  stripe-billing-mcp [stdio] [--staff] [--demo]
  stripe-billing-mcp serve [--demo]
  stripe-billing-mcp doctor [--json] [--demo]
  stripe-billing-mcp audit [--email …] [--customer cus_…] [--since 7d|2026-11-01]
                           [--host … --conversation …] [--tenant ten_…] [--limit N] [--json]
  stripe-billing-mcp audit verify [--anchors FILE] | export --jsonl [--email …] | erase --email … [--tenant …] | purge
  stripe-billing-mcp serve --platform
  stripe-billing-mcp tenants add --name … [--settings JSON] | list | show <id>
                             | rotate-key <id> --kind host|staff | remove <id> | rotate-kek
  stripe-billing-mcp policy --schema | --check FILE

Modes:
  stdio (default)   MCP over stdin/stdout, for Claude Desktop, Claude Code and agents.
  serve             HTTP for chatbot hosts and staff tools: Streamable HTTP at /mcp, plain
                    JSON at /v1/tools, /healthz, /readyz, /metrics. Every request carries
                    Authorization: Bearer <HOST_KEYS or STAFF_KEYS secret>; host requests
                    name the customer with X-Customer-Token or X-Conversation-Id.
                    Support agents sign in to the insight panel at /panel with a staff
                    key; GET /v1/insight?email=… serves its data to other helpdesks.
  doctor            Check the set-up and exit: the Stripe key (format, test/live, restricted),
                    each permission the enabled tools need, the billing-portal configuration,
                    SMTP, Redis and identity tokens. Prints what each problem breaks and the
                    fix; --json for machines. Exit 0 only when every enabled tool will work.
                    Changes nothing on the Stripe account.
  audit             The disclosure audit trail: what the assistant showed, to whom, on whose
                    verification. verify checks the keyed hash chain and names the first broken
                    record (exit 1); --anchors FILE also checks it against the checkpoints in
                    AUDIT_ANCHOR_FILE; export --jsonl answers a data-subject request; erase
                    deletes one person's email and customer ids (the chain still verifies);
                    purge applies AUDIT_RETENTION_DAYS now. Same settings as serve.
  serve --platform  One server for many merchants (chatbot platforms): each merchant (tenant)
                    has its own Stripe key, encrypted at rest (TENANT_KEY_SECRET), and its own
                    host and staff keys; a request's merchant comes from its bearer key alone.
                    ADMIN_KEYS manage merchants under /v1/admin/tenants; webhooks arrive at
                    /webhooks/stripe/<tenant id>.
  tenants           The same from a shell. add reads the merchant's Stripe key from
                    TENANT_STRIPE_API_KEY (and TENANT_WEBHOOK_SECRET), never from arguments.
                    rotate-kek re-encrypts every secret under TENANT_KEY_SECRET's first key.
  policy            The actions policy (ACTIONS_POLICY): --schema prints its JSON Schema,
                    --check FILE validates a policy file and says what it turns on.
  --staff           Run as merchant staff: customer tools take \`email\` or \`customer_id\`.
                    Without it (customer mode) the customer is the one named by the
                    host-signed CUSTOMER_TOKEN, and tools have no way to choose another.
  --demo            Use the built-in demo Stripe account, in-process: no key, no network.
                    In customer mode the demo customer is alice@example.com; with
                    --demo-verify the visitor starts unverified and verification codes
                    are printed to stderr (DEMO OUTBOX) instead of mailed.
  --help, --version

Settings (environment variables):
  STRIPE_API_KEY          rk_… (recommended) or sk_…; pk_… is refused. Required unless --demo.
  STRIPE_API_BASE         Base URL of a Stripe-compatible API (default https://api.stripe.com).
  CUSTOMER_TOKEN          stdio customer mode: host-signed identity token (JWT with email, exp).
  IDENTITY_SECRET         HS256 secret for identity tokens (at least 32 bytes).
  IDENTITY_JWKS_URL       JWKS URL for RS256/ES256 identity tokens.
  IDENTITY_ISSUER, IDENTITY_AUDIENCE   Checked when set.
  IDENTITY_MAX_AGE        Longest identity-token lifetime accepted (exp after iat, or after now
                          without iat), e.g. 3600, 30m, 24h (default 24h).
  VERIFY_MODE             code (default) or trust-email (unverified email matching; opt-in).
  SMTP_URL, MAIL_FROM, MERCHANT_NAME   Where one-time codes are mailed from (enables
                          verify_email_start / verify_email_confirm in customer mode).
  STORE_URL               redis://… for state shared across processes (default in-memory).
  STORE_MAX_ENTRIES       Live entries the store may hold (default 100000); the quotas are shares
                          of it: a merchant 10 %, a host key half of that, callers not signed in 10 %.
  VERIFY_SECRET           HMAC key for one-time codes (≥ 32 bytes); required with STORE_URL.
  GRANT_MAX_AGE_MINUTES   How long an email verification lasts (default 1440).
  GRANT_IDLE_MINUTES      A verification unused this long lapses (default 60).
  TOOLS                   Comma list: only these tools (default every read tool + portal + cancel).
  WRITE_TOOLS             Comma list enabling resend_invoice, apply_coupon (or \`all\`).
  COUPON_ALLOWLIST        Coupon ids the model may apply directly (promotion codes need none).
  PLAN_PRODUCTS           Comma list of product ids (prod_…) get_available_plans may show; default:
                          the products the billing portal lets customers switch to, else every
                          active recurring price (doctor warns).
  PORTAL_RETURN_URL       Where the billing portal sends the customer back.
  PORTAL_CONFIGURATION    A billing-portal configuration id (bpc_…) instead of the default.
  CANCEL_RETENTION_COUPON A coupon id the portal's cancel flow offers before the customer cancels.
  HOST, PORT              HTTP bind address (default 127.0.0.1:8787).
  HOST_KEYS, STAFF_KEYS   HTTP bearer keys, name:secret comma lists.
  ALLOWED_ORIGINS         Browser origins allowed to call the HTTP endpoints.
  PANEL_FRAME_ANCESTORS   Origins (comma list) of helpdesks allowed to frame /panel, e.g.
                          https://app.chatwoot.com (default: only the panel itself).
  PANEL_ORIGINS           Extra origins allowed to post the panel's forms (its public origin behind
                          a proxy that rewrites Host); default: the same host only.
  PANEL_SESSION_SECRET    Signs /panel session cookies (≥ 32 bytes; default VERIFY_SECRET,
                          else random per process). Same value on every process.
  TRUST_PROXY             Reverse proxies in front of the server (default 0): the panel's sign-in
                          limits and the per-client connection cap then count the client in
                          X-Forwarded-For, not the proxy.
  MAX_CONNECTIONS_PER_CLIENT
                          Open connections one client address may hold (default 256 of 2048).
  KEEP_ALIVE_SECONDS      How long an idle keep-alive connection stays open (default 65: above
                          a load balancer's 60 s idle timeout). Request heads: this + 1 s.
  STRIPE_WEBHOOK_SECRET   whsec_… for POST /webhooks/stripe (serve): Stripe's events keep cached
                          answers fresh, so they live until an event (at most 1 h).
  CACHE_URL               redis://… for cached Stripe answers shared by every process (default
                          STORE_URL, else in-memory); an evicting Redis is fine here.
  CACHE_TTL_SECONDS       Without webhooks, how old an answer may be (default 60).
  CACHE_MAX_MB            The cache's own memory budget, in memory or in Redis (default 64).
  STRIPE_RATE_LIMIT       Stripe requests per second for this key, all processes together (default
                          25 for test keys, 100 live). Two keys of one account: split the limit.
  CALLER_STRIPE_SHARE     Percent of that budget one host or staff key may use while another key
                          waits (default 80); a key alone may use all of it.
  HOST_CALLS_PER_MINUTE   Tool calls per minute per host or staff key (default 6000).
  CONVERSATION_CALLS_PER_MINUTE   Tool calls per minute per conversation (default 60).
  AUDIT                   on or off. Default: on for serve, off for stdio unless AUDIT_DB or
                          DATABASE_URL is set.
  AUDIT_DB                The trail's SQLite file (default $XDG_DATA_HOME/stripe-billing-mcp/audit.db).
  DATABASE_URL            postgres://… : the trail in Postgres, one chain for every process.
  AUDIT_RETENTION_DAYS    Records older than this are purged daily (default 90).
  AUDIT_BUFFER            Records held while the database cannot be written (default 10000);
                          beyond that they are counted as lost.
  AUDIT_REQUIRED          true: a call discloses only after its record is committed, and is
                          refused while the trail cannot be written.
  AUDIT_KEY               Keys the trail's chain is linked (HMAC) under, label:base64 (32 bytes)
                          comma list, newest first; default: a key generated once into a 0600
                          file beside the trail (audit.key). Same value on every process.
  AUDIT_ANCHOR_FILE       A file the trail's head is appended to every minute and 1000 records,
                          for audit verify --anchors.
  ADMIN_KEYS              Platform mode: admin bearer keys, name:secret comma list.
  TENANT_KEY_SECRET       Platform mode: key-encryption keys, label:base64 (32 bytes) comma list,
                          newest first (the first encrypts, all decrypt).
  PUBLIC_URL              The server's public URL: the emailed confirmation links of action
                          requests (PUBLIC_URL/confirm/…), and in platform mode the webhook URLs.
  ACTIONS_POLICY          A JSON file: which refunds, credits, pauses and plan changes the assistant
                          may request, and which need a staff approval (default: none, read-only).
                          Checked at start; stripe-billing-mcp policy --schema prints its schema.
                          Requests live in the audit trail's database (stdio turns the trail on).
  APPROVAL_WEBHOOK_URL    Each request waiting for a staff approval is POSTed here as signed JSON
                          with a Slack-compatible text field (retried with backoff).
  APPROVAL_WEBHOOK_SECRET Signs those POSTs (HMAC-SHA256 in X-Stripe-Billing-Signature, t=…,v1=…).
  LOG_LEVEL               fatal, error, warn, info (default), debug, trace or silent. Logs go to stderr.

Examples:
  STRIPE_API_KEY=rk_live_… stripe-billing-mcp --staff
  STRIPE_API_KEY=rk_live_… IDENTITY_SECRET=… CUSTOMER_TOKEN=eyJ… stripe-billing-mcp
  stripe-billing-mcp --demo --staff
`;

const OPTIONS = {
  staff: { type: 'boolean', default: false },
  demo: { type: 'boolean', default: false },
  'demo-verify': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  jsonl: { type: 'boolean', default: false },
  email: { type: 'string' },
  customer: { type: 'string' },
  since: { type: 'string' },
  host: { type: 'string' },
  conversation: { type: 'string' },
  limit: { type: 'string' },
  tenant: { type: 'string' },
  anchors: { type: 'string' },
  platform: { type: 'boolean', default: false },
  name: { type: 'string' },
  settings: { type: 'string' },
  kind: { type: 'string' },
  schema: { type: 'boolean', default: false },
  check: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

/** `--help`, `help` or `help <command>`: the general help, or that command's own. */
function helpText(argv: string[]): string | undefined {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: OPTIONS });
  const asked = positionals[0] === 'help';
  if (!asked && values.help !== true) return undefined;
  const topic = (asked ? positionals[1] : positionals[0]) ?? 'help';
  if (topic === 'help') return HELP;
  if (topic === 'serve' && values.platform === true) return commandHelp('platform', SERVER_VERSION);
  if (!isHelpTopic(topic)) throw new ConfigurationError(`No help for "${topic}": the commands are stdio, serve, serve --platform, doctor, audit, tenants and policy. Run stripe-billing-mcp --help.`);
  return commandHelp(topic, SERVER_VERSION);
}

async function main(argv: string[]): Promise<void> {
  // Help before anything else: `serve --port 1 --help` shows serve's help, not an error.
  const help = helpText(argv);
  if (help !== undefined) {
    process.stdout.write(help);
    return;
  }
  await checkFlags(argv, OPTIONS);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  if (values.version) {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }
  const command = positionals[0] ?? 'stdio';
  if (command === 'audit') {
    if (positionals.length > 2) throw new ConfigurationError(`Unknown command "${positionals.join(' ')}". Run stripe-billing-mcp --help.`);
    const { runAuditCommand } = await import('./audit/audit-command.js');
    process.exitCode = await runAuditCommand(positionals[1], values);
    return;
  }
  if (command === 'tenants') {
    if (positionals.length > 3) throw new ConfigurationError(`Unknown command "${positionals.join(' ')}". Run stripe-billing-mcp --help.`);
    const { runTenantsCommand } = await import('./platform/tenants-command.js');
    process.exitCode = await runTenantsCommand(positionals[1], positionals[2], values);
    return;
  }
  if (command === 'policy') {
    if (positionals.length > 1) throw new ConfigurationError(`Unknown command "${positionals.join(' ')}". Run stripe-billing-mcp policy --help.`);
    const { runPolicyCommand } = await import('./actions/policy-command.js');
    process.exitCode = runPolicyCommand(values);
    return;
  }
  if (values.schema || values.check !== undefined) throw new ConfigurationError(`--${values.schema ? 'schema' : 'check'} is for the policy command. Run stripe-billing-mcp policy --help.`);
  if (values.platform) {
    if (command !== 'serve' || positionals.length > 1) throw new ConfigurationError('--platform goes with serve: stripe-billing-mcp serve --platform.');
    const { runPlatformCommand } = await import('./platform/platform-command.js');
    await runPlatformCommand();
    return;
  }
  const auditOnly = (['email', 'customer', 'since', 'host', 'conversation', 'limit', 'jsonl', 'tenant', 'anchors'] as const).filter((flag) => values[flag] !== undefined && values[flag] !== false);
  if (auditOnly.length > 0) throw new ConfigurationError(`--${auditOnly[0]} is for the audit command.`);
  if (!['stdio', 'serve', 'doctor'].includes(command) || positionals.length > 1) {
    throw new ConfigurationError(`Unknown command "${positionals.join(' ')}". Run stripe-billing-mcp --help.`);
  }

  const { runCommand } = await import('./run-command.js');
  await runCommand(command as 'stdio' | 'serve' | 'doctor', values);
}

main(process.argv.slice(2)).catch(async (error: unknown) => {
  // Lines logged before the error (pino loads on the first one) go out first, as they happened.
  await flushLogs().catch(() => undefined);
  // Not a setting's syntax but the machine (a port in use): the message says what to change.
  if (error instanceof StartupError) {
    process.stderr.write(`stripe-billing-mcp: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ConfigurationError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`stripe-billing-mcp: ${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`stripe-billing-mcp: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
