// Tokens the model reads on every turn: the `tools/list` answer, per mode, in o200k_base; for a
// client without MCP Apps support and one with it (which also lists the billing card's app-only
// buttons, which hosts never show the model), and the card's own size. Then, per tool in customer
// mode, what its listing costs (description, input schema, output schema) and what the model reads
// of each answer (the text content; `structuredContent` is for hosts and the card) when the demo's
// alice calls it with the arguments of test/support/tool-args.ts.
// With BEFORE_DIR (a build of an earlier commit: `git archive <commit> | tar -x -C DIR`, then
// `npm run build` there) the per-tool tables show that build beside this one, from the same run.
// Run: npm run bench:tokens   (BEFORE_DIR=/tmp/sbm-before npm run bench:tokens)
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { getEncoding } from 'js-tiktoken';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO } from '../dist/demo/fake-stripe/index.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const beforeCli = process.env.BEFORE_DIR ? join(process.env.BEFORE_DIR, 'dist', 'cli.js') : undefined;
const encoding = getEncoding('o200k_base');

const APPS = { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } };
let card;

async function connect(args, env = {}, apps = false, entry = cli) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, ...args],
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' }, apps ? { capabilities: APPS } : {});
  await client.connect(transport);
  return client;
}

async function listTools(args, env = {}, apps = false, entry = cli) {
  const client = await connect(args, env, apps, entry);
  const { tools } = await client.listTools();
  if (entry === cli) card ??= apps ? (await client.readResource({ uri: 'ui://stripe-billing/billing-card.html' })).contents[0].text : undefined;
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
    const before = beforeCli ? await listTools(args, env, apps, beforeCli) : undefined;
    const perTool = tools.map((tool) => tokens(tool));
    rows.push({
      mode: name,
      client: apps ? 'MCP Apps' : 'no Apps',
      tools: tools.length,
      ...(before ? { 'before without _meta': tokens({ tools: withoutMeta(before) }) } : {}),
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

// Per tool, customer mode, every tool the model can be offered (write tools and every action on).
const everything = { WRITE_TOOLS: 'all', ...actions };
const builds = [['after', cli], ...(beforeCli ? [['before', beforeCli]] : [])];
const listings = {};
for (const [label, entry] of builds) {
  const client = await connect(['--demo'], everything, false, entry);
  listings[label] = Object.fromEntries((await client.listTools()).tools.map((tool) => [tool.name, tool]));
  await client.close();
}
const listingRow = (tool) => {
  const { _meta, ...listed } = tool;
  return { total: tokens(listed), description: encoding.encode(tool.description ?? '').length, input: tokens(tool.inputSchema), output: tool.outputSchema ? tokens(tool.outputSchema) : 0 };
};
const perToolRows = Object.values(listings.after).map((tool) => {
  const after = listingRow(tool);
  const before = listings.before?.[tool.name] ? listingRow(listings.before[tool.name]) : undefined;
  return {
    tool: tool.name,
    ...(before ? { 'before total': before.total } : {}),
    total: after.total,
    ...(before ? { 'before description + input': before.description + before.input } : {}),
    'description + input': after.description + after.input,
    ...(before ? { 'before output schema': before.output } : {}),
    'output schema': after.output,
  };
});
console.log('tools/list per tool, customer mode, write tools and every action on (o200k_base tokens, without _meta):');
console.table(perToolRows);

// Per answer: each tool called as alice in a fresh demo process (a write changes the demo's state),
// with the arguments of test/support/tool-args.ts (a TypeScript module, so repeated here). The
// verification tools are left out: the demo's alice is verified already.
const DEMO_ARGS = {
  resend_invoice: { invoice: DEMO.invoices.alicePaid[0] },
  apply_coupon: { code: 'WELCOME20' },
  preview_plan_change: { price: DEMO.prices.teamMonthly },
  request_refund: { payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' },
  request_credit: { amount: 500, reason: 'outage' },
  retry_payment: { invoice: null },
  pause_subscription: { days: 10 },
  request_plan_change: { price: DEMO.prices.teamMonthly },
};
// Each build keeps its own trail, so get_request_status lists the requests that build's calls made.
const trails = Object.fromEntries(builds.map(([label]) => [label, mkdtempSync(join(scratch, `${label}-`))]));
async function answerTokens(entry, name) {
  const label = entry === cli ? 'after' : 'before';
  const client = await connect(['--demo'], { ...everything, XDG_DATA_HOME: trails[label] }, false, entry);
  try {
    const result = await client.callTool({ name, arguments: DEMO_ARGS[name] ?? {} });
    const text = result.content.filter((part) => part.type === 'text').map((part) => part.text).join('\n');
    return { text: encoding.encode(text).length, structured: result.structuredContent ? tokens(result.structuredContent) : 0, error: result.isError === true };
  } finally {
    await client.close();
  }
}
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return { median: sorted.length % 2 ? sorted[middle] : Math.round((sorted[middle - 1] + sorted[middle]) / 2), max: sorted.at(-1) };
};
const answerRows = [];
for (const name of Object.keys(listings.after).filter((tool) => !tool.startsWith('verify_email_'))) {
  const after = await answerTokens(cli, name);
  const before = beforeCli && listings.before?.[name] ? await answerTokens(beforeCli, name) : undefined;
  answerRows.push({
    tool: name,
    ...(before ? { 'before text': before.text } : {}),
    text: after.text,
    ...(before ? { 'text after/before': +(after.text / before.text).toFixed(2) } : {}),
    structuredContent: after.structured,
    ...(after.error || before?.error ? { note: 'refused (not in median/max)' } : {}),
  });
}
// Median and max over answers: a refusal (nothing to resume, no failed payment) is one sentence.
const answered = answerRows.filter((row) => row.note === undefined);
const figures = (key) => (answered[0]?.[key] === undefined ? {} : stats(answered.map((row) => row[key])));
console.log('What the model reads of each answer (text content), alice on the demo (o200k_base tokens):');
console.table(answerRows);
const [beforeStats, afterStats] = [figures('before text'), figures('text')];
console.table([
  ...(beforeCli ? [{ build: 'before', median: beforeStats.median, max: beforeStats.max }] : []),
  { build: 'after', median: afterStats.median, max: afterStats.max, target: 'median ≤ 200, max ≤ 600' },
]);
rmSync(scratch, { recursive: true, force: true });
