// The Claude Desktop extension: stripe-billing-mcp.mcpb, for merchant staff (`--staff`).
// Stages mcpb/ (manifest.json, icon.png, server/index.js and server/package.json) with the npm
// bundle's files under server/ (no source maps: `mcpb pack` leaves them out anyway), then runs
// `mcpb validate` and `mcpb pack`. The bundle carries every dependency, so the extension holds no
// node_modules and no native module.
// Run: npm run pack:mcpb                      (builds first; writes ./stripe-billing-mcp.mcpb)
//      node scripts/pack-mcpb.mjs [out.mcpb]  (uses the bundle/ already built)
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(ROOT, 'stripe-billing-mcp.mcpb'));

function fail(message) {
  console.error(`pack-mcpb: ${message}`);
  process.exit(1);
}

/** `mcpb …` through Node (no shell, any platform); a non-zero exit becomes an exception. */
function runMcpb(...args) {
  const result = spawnSync(process.execPath, [mcpbCli, ...args], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`mcpb ${args[0]} failed (exit ${result.status ?? result.signal})`);
}

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
const manifest = JSON.parse(await readFile(join(ROOT, 'mcpb', 'manifest.json'), 'utf8'));
if (manifest.version !== pkg.version) fail(`mcpb/manifest.json has version ${manifest.version}, package.json ${pkg.version}: make them the same.`);
if (!(await stat(join(ROOT, 'bundle', 'cli.js')).catch(() => undefined))) fail('bundle/cli.js is missing: run `npm run build` first (or `npm run pack:mcpb`).');

const mcpbPackage = JSON.parse(await readFile(join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'package.json'), 'utf8'));
const mcpbCli = join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', typeof mcpbPackage.bin === 'string' ? mcpbPackage.bin : mcpbPackage.bin.mcpb);

const staging = await mkdtemp(join(tmpdir(), 'sbm-mcpb-'));
try {
  await cp(join(ROOT, 'mcpb'), staging, { recursive: true });
  // The manifest says MIT: the licence travels with the code.
  await cp(join(ROOT, 'LICENSE'), join(staging, 'LICENSE'));
  await cp(join(ROOT, 'bundle'), join(staging, 'server'), { recursive: true, filter: (source) => !source.endsWith('.map') });

  // What the extension must never hold: dependencies to install, or native code for one platform.
  const staged = await readdir(staging, { recursive: true });
  const unwanted = staged.filter((path) => /(^|[\\/])node_modules([\\/]|$)|\.node$/.test(path));
  if (unwanted.length > 0) throw new Error(`the staged extension holds ${unwanted.join(', ')}`);

  runMcpb('validate', join(staging, 'manifest.json'));
  await rm(out, { force: true });
  runMcpb('pack', staging, out);
  console.log(`pack-mcpb: wrote ${out} (${((await stat(out)).size / 1024).toFixed(0)} KiB)`);
} catch (error) {
  console.error(`pack-mcpb: ${error.message}`);
  process.exitCode = 1;
} finally {
  await rm(staging, { recursive: true, force: true });
}
