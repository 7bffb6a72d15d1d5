#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadSettings, type Settings } from './config.js';
import { ConfigurationError } from './errors.js';
import { createLogger } from './log.js';
import { createRuntime } from './runtime.js';
import { SERVER_VERSION, serveStdio } from './server.js';
import type { ToolRuntime } from './tools/lib/context.js';
import type { AnyToolDefinition } from './tools/lib/define-tool.js';
import { startToolAvailability } from './tools/lib/tool-availability.js';
import { selectTools } from './tools/registry.js';
import { createIdentityTokenVerifier } from './verify/identity-token.js';
import { stdioConversationKey, stdioPrincipalResolver } from './verify/stdio-principal.js';

const HELP = `stripe-billing-mcp ${SERVER_VERSION}
Answer a merchant's customers' billing questions from Stripe, safely, over MCP.

Usage:
  stripe-billing-mcp [stdio] [--staff] [--demo]
  stripe-billing-mcp serve [--demo]
  stripe-billing-mcp doctor [--json] [--demo]

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
  VERIFY_SECRET           HMAC key for one-time codes (≥ 32 bytes); required with STORE_URL.
  GRANT_MAX_AGE_MINUTES   How long an email verification lasts (default 1440).
  GRANT_IDLE_MINUTES      A verification unused this long lapses (default 60).
  TOOLS                   Comma list: only these tools (default every read tool + portal + cancel).
  WRITE_TOOLS             Comma list enabling resend_invoice, apply_coupon (or \`all\`).
  COUPON_ALLOWLIST        Coupon ids the model may apply directly (promotion codes need none).
  PORTAL_RETURN_URL       Where the billing portal sends the customer back.
  PORTAL_CONFIGURATION    A billing-portal configuration id (bpc_…) instead of the default.
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
                          limits then count the client in X-Forwarded-For, not the proxy.
  STRIPE_WEBHOOK_SECRET   whsec_… for POST /webhooks/stripe (serve): Stripe's events keep cached
                          answers fresh, so they live until an event (at most 1 h).
  CACHE_URL               redis://… for cached Stripe answers shared by every process (default
                          STORE_URL, else in-memory); an evicting Redis is fine here.
  CACHE_TTL_SECONDS       Without webhooks, how old an answer may be (default 60).
  CACHE_MAX_MB            The cache's own memory budget, in memory or in Redis (default 64).
  STRIPE_RATE_LIMIT       Stripe requests per second for this key, all processes together (default
                          25 for test keys, 100 live). Two keys of one account: split the limit.
  CALLER_STRIPE_SHARE     Percent of that budget one host or staff key may use (default 80:
                          the rest always stays free for the other keys).
  HOST_CALLS_PER_MINUTE   Tool calls per minute per host or staff key (default 6000).
  CONVERSATION_CALLS_PER_MINUTE   Tool calls per minute per conversation (default 60).
  LOG_LEVEL               fatal, error, warn, info (default), debug, trace or silent. Logs go to stderr.

Examples:
  STRIPE_API_KEY=rk_live_… stripe-billing-mcp --staff
  STRIPE_API_KEY=rk_live_… IDENTITY_SECRET=… CUSTOMER_TOKEN=eyJ… stripe-billing-mcp
  stripe-billing-mcp --demo --staff
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      staff: { type: 'boolean', default: false },
      demo: { type: 'boolean', default: false },
      'demo-verify': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }
  const command = positionals[0] ?? 'stdio';
  if (!['stdio', 'serve', 'doctor'].includes(command) || positionals.length > 1) {
    throw new ConfigurationError(`Unknown command "${positionals.join(' ')}". Run stripe-billing-mcp --help.`);
  }

  let settings = loadSettings(process.env);
  const log = createLogger({ level: settings.LOG_LEVEL });
  let demoSetup: Awaited<ReturnType<typeof import('./demo/in-process.js')['inProcessDemo']>> | undefined;
  if (values.demo) {
    const demo = await import('./demo/in-process.js');
    demoSetup = await demo.inProcessDemo(settings, { staff: values.staff, verify: values['demo-verify'] || command === 'serve', http: command === 'serve' });
    settings = demoSetup.settings;
    log.info({ customer: values.staff ? undefined : demo.DEMO_CUSTOMER_EMAIL }, 'demo mode: built-in demo Stripe account, in-process');
  }

  // Only `serve` has the webhook route, so only there do events keep cached answers fresh.
  const runtime = createRuntime({ settings, log, fetch: demoSetup?.fetch, mailer: demoSetup?.mailer, webhooks: command === 'serve' && settings.STRIPE_WEBHOOK_SECRET !== undefined });
  const tools = selectTools(toolSelection(settings));
  if (command === 'doctor') {
    process.exitCode = await runDoctorCommand({ settings, runtime, tools, json: values.json });
    await Promise.all([runtime.store.close(), runtime.reads.cache.backend.close(), runtime.budget.close()]);
    return;
  }
  const verifier = createIdentityTokenVerifier(settings);
  if (!values.staff && settings.CUSTOMER_TOKEN && !verifier) {
    throw new ConfigurationError('CUSTOMER_TOKEN is set but neither IDENTITY_SECRET nor IDENTITY_JWKS_URL is, so it cannot be verified.');
  }
  if (command !== 'serve' && !values.staff && !settings.CUSTOMER_TOKEN && !runtime.verification) {
    log.warn('customer mode without CUSTOMER_TOKEN or email verification (SMTP_URL): customer tools will answer that the customer is not verified (use --staff for merchant staff)');
  }
  if (runtime.key.mode === 'live' && values.demo) throw new ConfigurationError('--demo cannot be used with a live key.');

  if (command === 'serve') {
    if (values.staff) throw new ConfigurationError('--staff is for stdio; over HTTP, STAFF_KEYS decide who is staff.');
    const { serveHttp } = await import('./http/serve-command.js');
    await startToolAvailability(runtime, tools, settings);
    await serveHttp({ settings, runtime, verifier, tools, log, demo: values.demo });
    return;
  }

  await startToolAvailability(runtime, tools, settings);
  const conversation = stdioConversationKey();
  await serveStdio({
    tools,
    runtime,
    mode: values.staff ? 'staff' : 'customer',
    resolvePrincipal: stdioPrincipalResolver({ staff: values.staff, customerToken: settings.CUSTOMER_TOKEN, verifier, grants: runtime.verification?.grants, log }, conversation),
    conversation,
  });
  log.info({ mode: values.staff ? 'staff' : 'customer', key: runtime.key.redacted }, 'stripe-billing-mcp serving over stdio');
}

function toolSelection(settings: Settings) {
  return { allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS };
}

async function runDoctorCommand(options: { settings: Settings; runtime: ToolRuntime; tools: AnyToolDefinition[]; json: boolean }): Promise<number> {
  const { runDoctor } = await import('./doctor/run-doctor.js');
  const report = await runDoctor(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { renderDoctorReport } = await import('./doctor/render-report.js');
    process.stdout.write(renderDoctorReport(report));
  }
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigurationError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`stripe-billing-mcp: ${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`stripe-billing-mcp: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
