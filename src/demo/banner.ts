import { resolve } from 'node:path';
import type { Settings } from '../config.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import { DEMO } from './fake-stripe/demo-account.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, DEMO_STAFF_KEY, mintIdentityToken } from './demo-identity.js';

/**
 * What a person trying `npm run demo` needs: where the server is, the demo keys, a customer
 * token, a self-check through the real HTTP path, and configs to paste.
 */
export async function printDemoBanner(url: string, runtime: ToolRuntime, settings: Pick<Settings, 'PUBLIC_URL'>): Promise<void> {
  const token = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 24 * 3600);
  // The script this process runs (dist/cli.js, or the bundle's cli.js when installed).
  const cli = resolve(process.argv[1] ?? 'stripe-billing-mcp');
  let check: string;
  try {
    const response = await fetch(`${url}/v1/tools/get_subscription_status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-customer-token': token, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await response.json()) as { text?: string; error?: { message: string } };
    check = body.text ? body.text.split('\n\n')[0]!.replace(/\n/g, '\n  ') : `FAILED: ${body.error?.message ?? response.status}`;
  } catch (error) {
    check = `FAILED: ${error instanceof Error ? error.message : String(error)}`;
  }
  const mcpConfig = JSON.stringify(
    { mcpServers: { 'billing-demo': { type: 'http', url: `${url}/mcp`, headers: { Authorization: `Bearer ${DEMO_HOST_KEY}`, 'X-Customer-Token': token } } } },
    null,
    2,
  );
  process.stdout.write(`
stripe-billing-mcp demo (built-in demo Stripe account, key ${runtime.key.redacted})
================================================================================
MCP endpoint:   ${url}/mcp          plain JSON: ${url}/v1/tools
Insight panel:  ${url}/panel        (support agents: sign in with the staff key below)
Host key:       ${DEMO_HOST_KEY}    (chatbot host → customer tools)
Staff key:      ${DEMO_STAFF_KEY}   (merchant staff → any customer by email)
Customer token for ${DEMO_CUSTOMER_EMAIL} (HS256, 24 h):
  ${token}

Self-check, get_subscription_status as ${DEMO_CUSTOMER_EMAIL} over HTTP:
  ${check}

MCP client config (Streamable HTTP, customer ${DEMO_CUSTOMER_EMAIL}):
${mcpConfig}

MCP Inspector:  npx @modelcontextprotocol/inspector  → Streamable HTTP, ${url}/mcp, header Authorization: Bearer ${DEMO_HOST_KEY}

Plain JSON, as a function-calling bot would:
  curl -s ${url}/v1/tools -H 'Authorization: Bearer ${DEMO_HOST_KEY}'
  curl -s -X POST ${url}/v1/tools/get_invoice_history -H 'Authorization: Bearer ${DEMO_HOST_KEY}' -H 'X-Customer-Token: ${token}' -d '{}'
A visitor without a token verifies by emailed code (codes print to this terminal as DEMO OUTBOX):
  curl -s -X POST ${url}/v1/tools/verify_email_start -H 'Authorization: Bearer ${DEMO_HOST_KEY}' -H 'X-Conversation-Id: chat-1' -d '{"email":"bob@example.com"}'
  curl -s -X POST ${url}/v1/tools/verify_email_confirm -H 'Authorization: Bearer ${DEMO_HOST_KEY}' -H 'X-Conversation-Id: chat-1' -d '{"code":"<code>"}'
Staff, any customer:
  curl -s -X POST ${url}/v1/tools/get_customer_overview -H 'Authorization: Bearer ${DEMO_STAFF_KEY}' -d '{"email":"carol@example.com"}'
  curl -s '${url}/v1/insight?email=carol@example.com' -H 'Authorization: Bearer ${DEMO_STAFF_KEY}'
  Panel: ${url}/panel?email=alice@example.com (two Stripe records share this email)
${actionsSection(url, token, runtime, settings.PUBLIC_URL)}${runtime.audit ? `Audit trail:    ${runtime.audit.store.location} (what was shown to whom; this demo's own)\n  stripe-billing-mcp audit --demo        (from a clone: node ${cli} audit --demo)\n` : ''}Set-up report (what \`stripe-billing-mcp doctor\` checks; the key's permissions, portal, mail, store):
  curl -s ${url}/v1/status -H 'Authorization: Bearer ${DEMO_STAFF_KEY}'

Claude Desktop over stdio instead: command "node", args ["${cli}", "--demo"] (customer ${DEMO_CUSTOMER_EMAIL}) or ["${cli}", "--demo", "--staff"].
Other demo customers: bob@example.com (trial), carol@example.com (past due), dave@example.com (send_invoice), erin@example.jp (JPY), frank@example.com (credit)
Press Ctrl-C to stop.
`);
}

/** What to try with the actions policy on, and where the confirmation link prints. */
function actionsSection(url: string, token: string, runtime: ToolRuntime, publicUrl: string | undefined): string {
  const actions = runtime.actions;
  if (!actions?.enabled('refund')) return '';
  const policy = process.env.ACTIONS_POLICY ? `ACTIONS_POLICY=${process.env.ACTIONS_POLICY}` : "the demo's own: refunds up to $50 without approval, credits always approved by staff, pauses up to 31 days";
  const links = publicUrl
    ? `The confirmation link (${publicUrl.replace(/\/$/, '')}/confirm/…) prints to this terminal as DEMO OUTBOX; open it and click Confirm.`
    : 'Set PUBLIC_URL to this server’s address to get an emailed confirmation link (printed as DEMO OUTBOX).';
  return `Actions (refunds, credits, pauses; policy: ${policy}):
  Try it: ask for a refund of the duplicate charge (alice was charged $44.00 twice):
  curl -s -X POST ${url}/v1/tools/request_refund -H 'Authorization: Bearer ${DEMO_HOST_KEY}' -H 'X-Customer-Token: ${token}' -d '{"payment":"${DEMO.actions.aliceDuplicateCharge}","reason":"duplicate"}'
  ${links}
  Or confirm as the host's own button would, with \`confirmation.token\` of that answer (shown to the person, never to the model):
  curl -s -X POST ${url}/v1/requests/<request_id>/confirm -H 'Authorization: Bearer ${DEMO_HOST_KEY}' -H 'X-Customer-Token: ${token}' -d '{"token":"<confirmation.token>"}'
  Requests waiting for a staff approval (ask for a credit): ${url}/panel, or curl -s ${url}/v1/requests -H 'Authorization: Bearer ${DEMO_STAFF_KEY}'
`;
}
