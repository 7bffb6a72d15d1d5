// Tokens the model reads on every turn: the `tools/list` answer, per mode, in o200k_base; for a
// client without MCP Apps support and one with it (which also lists the billing card's app-only
// buttons, which hosts never show the model), and the card's own size.
// Run: npm run bench:tokens
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { getEncoding } from 'js-tiktoken';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const encoding = getEncoding('o200k_base');

const APPS = { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } };
let card;

async function listTools(args, env = {}, apps = false) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, ...args],
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' }, apps ? { capabilities: APPS } : {});
  await client.connect(transport);
  const { tools } = await client.listTools();
  card ??= apps ? (await client.readResource({ uri: 'ui://stripe-billing/billing-card.html' })).contents[0].text : undefined;
  await client.close();
  return tools;
}

// Every action on: the action tools are listed only when a policy turns them on. The trail
// (where requests live) goes to a throw-away folder.
const scratch = mkdtempSync(join(tmpdir(), 'sbm-bench-tokens-'));
const policy = join(scratch, 'policy.json');
writeFileSync(
  policy,
  JSON.stringify({
    refund: { enabled: true, reasons: ['duplicate', 'requested_by_customer'], max_age_days: 30, max_amount: { usd: 20000 } },
    credit: { enabled: true, max_amount: { usd: 5000 } },
    pause: { enabled: true, max_days: 90, behavior: 'void' },
    plan_change: { enabled: true, max_amount: { usd: 50000 } },
    retry_payment: { enabled: true },
  }),
);
const actions = { ACTIONS_POLICY: policy, XDG_DATA_HOME: scratch };

const cases = [
  ['customer (default tools)', ['--demo'], {}],
  ['customer + write tools', ['--demo'], { WRITE_TOOLS: 'all' }],
  ['customer + every action', ['--demo'], actions],
  ['staff (default tools)', ['--demo', '--staff'], {}],
  ['staff + write tools', ['--demo', '--staff'], { WRITE_TOOLS: 'all' }],
  ['staff + every action', ['--demo', '--staff'], actions],
];

const tokens = (value) => encoding.encode(JSON.stringify(value)).length;
const withoutMeta = (tools) => tools.map(({ _meta, ...tool }) => tool);
const forModel = (tools) => tools.filter((tool) => !tool._meta?.ui?.visibility?.includes('app') || tool._meta.ui.visibility.includes('model'));

const rows = [];
for (const [name, args, env] of cases) {
  for (const apps of [false, true]) {
    const tools = await listTools(args, env, apps);
    const perTool = tools.map((tool) => tokens(tool));
    rows.push({
      mode: name,
      client: apps ? 'MCP Apps' : 'no Apps',
      tools: tools.length,
      tokens: tokens({ tools }),
      'tokens without _meta': tokens({ tools: withoutMeta(tools) }),
      'the model reads': tokens({ tools: forModel(tools) }),
      'max per tool': Math.max(...perTool),
      'mean per tool': Math.round(perTool.reduce((a, b) => a + b, 0) / perTool.length),
    });
  }
}
console.table(rows);
if (card) {
  const bytes = Buffer.byteLength(card);
  console.table([{ resource: 'ui://stripe-billing/billing-card.html', KiB: +(bytes / 1024).toFixed(1), 'gzip KiB': +(gzipSync(card).length / 1024).toFixed(1) }]);
}
rmSync(scratch, { recursive: true, force: true });
