import { fileURLToPath } from 'node:url';
import { loadSettings } from '../config.js';
import { silentLogger } from '../log.js';
import { createRuntime } from '../runtime.js';
import { runTool } from '../tools/lib/run-tool.js';
import { ALL_TOOLS } from '../tools/registry.js';
import { customerPrincipal } from '../verify/principal.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, DEMO_STRIPE_KEY, mintIdentityToken } from './demo-identity.js';
import { FakeStripe } from './fake-stripe/index.js';
import { serveFakeStripe } from './serve-fake-stripe.js';

/**
 * `npm run demo`: the demo Stripe account on a loopback port, a demo customer's identity
 * token, and ready-to-paste MCP client configs that point the real server at it.
 */
async function main(): Promise<void> {
  const port = Number(process.env.DEMO_STRIPE_PORT ?? 12111);
  const fake = new FakeStripe();
  const served = await serveFakeStripe(fake, { port }).catch(() => serveFakeStripe(fake, { port: 0 }));
  const token = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET);
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const env = { STRIPE_API_KEY: DEMO_STRIPE_KEY, STRIPE_API_BASE: served.url };
  const customerEnv = { ...env, IDENTITY_SECRET: DEMO_IDENTITY_SECRET, CUSTOMER_TOKEN: token };

  // Prove the whole path works before telling anyone to connect: the real tool code, over HTTP, to the fake.
  const runtime = createRuntime({ settings: loadSettings({ ...customerEnv, LOG_LEVEL: 'silent' }), log: silentLogger() });
  const tool = ALL_TOOLS.find((candidate) => candidate.name === 'get_subscription_status')!;
  const check = await runTool(tool, {}, { runtime, principal: customerPrincipal(DEMO_CUSTOMER_EMAIL, 'identity-token'), mode: 'customer' });
  const checkLine = check.ok ? check.text.split('\n\n')[0] : `FAILED: ${check.error.message}`;

  const inspectorEnv = Object.entries(customerEnv).map(([name, value]) => `-e ${name}=${value}`).join(' ');
  const config = (name: string, args: string[], serverEnv: Record<string, string>) =>
    JSON.stringify({ mcpServers: { [name]: { command: 'node', args: [cli, ...args], env: serverEnv } } }, null, 2);

  process.stdout.write(`
stripe-billing-mcp demo
=======================
Demo Stripe API (fake, seeded):  ${served.url}
Stripe key (fake):               ${DEMO_STRIPE_KEY}
Demo customer:                   ${DEMO_CUSTOMER_EMAIL}
Identity token (HS256, 30 days): ${token}

Self-check, get_subscription_status as ${DEMO_CUSTOMER_EMAIL}:
${checkLine}

MCP Inspector (customer mode):
  npx @modelcontextprotocol/inspector ${inspectorEnv} node ${cli}

Claude Desktop (claude_desktop_config.json), customer mode:
${config('billing-demo-customer', [], customerEnv)}

Claude Desktop / Claude Code, staff mode (choose any customer by email):
${config('billing-demo-staff', ['--staff'], env)}

Or without this process at all:  node ${cli} --demo [--staff]
A visitor who verifies by emailed code (codes print to stderr): node ${cli} --demo --demo-verify
Other demo customers: bob@example.com (trial), carol@example.com (past due), dave@example.com (send_invoice), erin@example.jp (JPY), frank@example.com (credit)
Press Ctrl-C to stop.
`);

  const stop = async () => {
    await served.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
