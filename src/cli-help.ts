/**
 * Each command's own help (`stripe-billing-mcp help serve`, `serve --help`): what it does, its
 * flags and the settings a newcomer reaches for first. The full list of settings stays in the
 * general help (`stripe-billing-mcp --help`), which this module does not repeat.
 */

export type HelpTopic = 'stdio' | 'serve' | 'platform' | 'doctor' | 'audit' | 'tenants' | 'policy';

const MORE = 'Every setting: stripe-billing-mcp --help.';

const TOPICS: Record<HelpTopic, string> = {
  stdio: `Usage: stripe-billing-mcp [stdio] [--staff] [--demo [--demo-verify]]

MCP over stdin/stdout, for Claude Desktop, Claude Code and agents (the default command).

  --staff          Merchant staff: customer tools take \`email\` or \`customer_id\`. Without it
                   (customer mode) the customer is the one named by CUSTOMER_TOKEN.
  --demo           The built-in demo Stripe account, in-process: no key, no network.
  --demo-verify    With --demo in customer mode: start unverified; codes print to stderr.

Settings: STRIPE_API_KEY (rk_… recommended), CUSTOMER_TOKEN with IDENTITY_SECRET or
IDENTITY_JWKS_URL (customer mode), SMTP_URL and MAIL_FROM (email codes), TOOLS, WRITE_TOOLS.
Settings are environment variables, never flags: STRIPE_API_KEY=rk_test_… stripe-billing-mcp --staff.
${MORE}
`,
  serve: `Usage: stripe-billing-mcp serve [--demo]

HTTP for chatbot hosts and staff tools: Streamable HTTP at /mcp, plain JSON at /v1/tools,
the insight panel at /panel, /healthz, /readyz, /metrics.

  --demo           The built-in demo Stripe account with demo host and staff keys; prints
                   the keys, a customer token and configs to paste. Its audit trail is its
                   own (read it with stripe-billing-mcp audit --demo).
  --platform       Many merchants on one server: see stripe-billing-mcp help platform.

Settings: HOST and PORT (bind address, default 127.0.0.1:8787), HOST_KEYS and STAFF_KEYS
(name:secret comma lists), STRIPE_API_KEY, IDENTITY_SECRET or IDENTITY_JWKS_URL,
STRIPE_WEBHOOK_SECRET, STORE_URL, DATABASE_URL or AUDIT_DB (the audit trail).
Settings are environment variables, never flags: PORT=9999 stripe-billing-mcp serve --demo.
${MORE}
`,
  platform: `Usage: stripe-billing-mcp serve --platform

One server for many merchants (chatbot platforms). Each merchant (tenant) has its own Stripe
key, encrypted at rest, and its own host and staff keys; a request's merchant comes from its
bearer key alone. Admin keys manage merchants under /v1/admin/tenants (JSON fields: name,
stripe_api_key, webhook_secret, settings); webhooks arrive at /webhooks/stripe/<tenant id>.

Settings: ADMIN_KEYS (name:secret), TENANT_KEY_SECRET (label:base64 of 32 bytes, newest
first), PUBLIC_URL, HOST and PORT, DATABASE_URL or AUDIT_DB, STORE_URL.
The same from a shell: stripe-billing-mcp help tenants.
${MORE}
`,
  doctor: `Usage: stripe-billing-mcp doctor [--json] [--demo]

Checks the set-up and exits: the Stripe key (format, test/live, restricted), each permission
the enabled tools need, the billing-portal configuration, mail, the store, identity tokens
and the audit trail. Prints what each problem breaks and the fix. Changes nothing on the
Stripe account. Exit 0 only when every enabled tool will work.

  --json           The report as JSON, for machines.
  --demo           Check the built-in demo account instead of STRIPE_API_KEY.

Settings: the same as stdio or serve (STRIPE_API_KEY, TOOLS, WRITE_TOOLS, PORTAL_CONFIGURATION…).
${MORE}
`,
  audit: `Usage: stripe-billing-mcp audit [list] [--email …] [--customer cus_…] [--since 7d|2026-11-01]
                [--host … --conversation …] [--tenant ten_…] [--limit N] [--json] [--demo]
       stripe-billing-mcp audit verify [--anchors FILE] [--json] [--demo]
       stripe-billing-mcp audit export --jsonl [--email …] [--demo]
       stripe-billing-mcp audit erase --email … [--tenant ten_…]
       stripe-billing-mcp audit purge

The disclosure audit trail: what the assistant showed, to whom, on whose verification.
It reads the trail of the same settings as serve (DATABASE_URL, else AUDIT_DB, else
audit.db in $XDG_DATA_HOME/stripe-billing-mcp) and names the database it read on stderr.
Reading never creates a database.

  list (default)   Matching records, newest first (--limit, default 100).
  verify           Checks the keyed hash chain; names the first broken record (exit 1).
                   --anchors FILE also checks the checkpoints in AUDIT_ANCHOR_FILE.
  export --jsonl   Every matching record, for a data-subject request.
  erase --email …  Deletes one person's email and customer ids, from the records and from their
                   action requests (waiting ones canceled); the chain still verifies.
  purge            Applies AUDIT_RETENTION_DAYS now.
  --host … --conversation …   A chatbot conversation: the HOST_KEYS name and X-Conversation-Id.
  --demo           The trail of serve --demo (npm run demo), kept apart from the real one:
                   one per demo port (PORT=8787 audit --demo); without PORT, the latest demo's.

Settings: DATABASE_URL, AUDIT_DB, AUDIT_KEY, AUDIT_RETENTION_DAYS.
${MORE}
`,
  tenants: `Usage: stripe-billing-mcp tenants add --name … [--settings JSON] | list | show <id>
                | rotate-key <id> --kind host|staff | remove <id> | rotate-kek

Platform mode's merchants from a shell, on the same database as serve --platform.
add reads the merchant's Stripe key from TENANT_STRIPE_API_KEY (and the webhook signing
secret from TENANT_WEBHOOK_SECRET), never from arguments, and shows the new host and staff
keys once. rotate-kek re-encrypts every secret under TENANT_KEY_SECRET's first key.

  --json           Answers as JSON.

Settings: TENANT_KEY_SECRET, DATABASE_URL or AUDIT_DB, PUBLIC_URL, STORE_URL.
${MORE}
`,
  policy: `Usage: stripe-billing-mcp policy --schema
       stripe-billing-mcp policy --check FILE

The actions policy: which refunds, account credits, pauses and plan changes the assistant may
request, within which limits, and which need a staff approval. Nothing is on without one.
ACTIONS_POLICY names its JSON file (platform mode: each merchant's settings.actions); a bad
policy stops the server at start, naming the field. Amounts are in minor units per lowercase
currency: { "usd": 5000 } is $50.00; a currency the policy does not name is refused.

  --schema         Print the policy's JSON Schema (point an editor at it with "$schema").
  --check FILE     Validate FILE as the server would and say what it turns on (exit 1 if not valid).

Settings: ACTIONS_POLICY. doctor shows which actions are on and the Stripe permission each lacks.
${MORE}
`,
};

const HELP_TOPICS = Object.keys(TOPICS) as HelpTopic[];

export function isHelpTopic(topic: string): topic is HelpTopic {
  return (HELP_TOPICS as string[]).includes(topic);
}

/** The help of one command, headed by the program's name and version. */
export function commandHelp(topic: HelpTopic, version: string): string {
  return `stripe-billing-mcp ${version}\n${TOPICS[topic]}`;
}
