// Tokens the model reads on every turn: the `tools/list` answer, per mode, in o200k_base.
// Run: npm run bench:tokens
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { getEncoding } from 'js-tiktoken';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const encoding = getEncoding('o200k_base');

async function listTools(args, env = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, ...args],
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await client.close();
  return tools;
}

const cases = [
  ['customer (default tools)', ['--demo'], {}],
  ['customer + write tools', ['--demo'], { WRITE_TOOLS: 'all' }],
  ['staff (default tools)', ['--demo', '--staff'], {}],
  ['staff + write tools', ['--demo', '--staff'], { WRITE_TOOLS: 'all' }],
];

const rows = [];
for (const [name, args, env] of cases) {
  const tools = await listTools(args, env);
  const json = JSON.stringify({ tools });
  const perTool = tools.map((tool) => encoding.encode(JSON.stringify(tool)).length);
  rows.push({ mode: name, tools: tools.length, tokens: encoding.encode(json).length, 'max per tool': Math.max(...perTool), 'mean per tool': Math.round(perTool.reduce((a, b) => a + b, 0) / perTool.length) });
}
console.table(rows);
