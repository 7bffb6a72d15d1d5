// Time from spawning the stdio server to its `tools/list` answer (the wait a desktop client
// sees when it starts the server). Median of N runs per mode.
// Run: npm run bench:startup   (RUNS=5 by default)
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const runs = Number(process.env.RUNS ?? 5);

async function once(args) {
  const started = performance.now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, ...args],
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const rows = [];
for (const [mode, args] of [['customer --demo', ['--demo']], ['staff --demo', ['--demo', '--staff']]]) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await once(args));
  rows.push({ mode, runs, 'median ms': Math.round(median(times)), 'min ms': Math.round(Math.min(...times)), 'max ms': Math.round(Math.max(...times)) });
}
console.table(rows);
