// The published package: src/cli.ts and everything it uses in one minified ESM bundle, split
// so that what most runs never touch (the HTTP server and panel, the demo's fake Stripe, Redis,
// mail, the doctor, Postgres) loads only on `await import()`, and what a stdio start needs only
// after its first tools/list (the Stripe SDK: src/stripe/sdk.ts; Ajv: src/server.ts) loads then.
// Every npm dependency is inside but one: better-sqlite3, the audit trail's native SQLite driver,
// is an optional dependency.
// Run: node scripts/bundle.mjs   (part of `npm run build`)
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { ajvOnDemand } from './esbuild-ajv-on-demand.mjs';
import { keepOwnNames } from './esbuild-keep-own-names.mjs';
import { buildToolList, prebuiltToolListPlugin } from './esbuild-prebuilt-tool-list.mjs';
import { zodEnglishOnly } from './esbuild-zod-english.mjs';
import { zodV4Only } from './esbuild-zod-v4-only.mjs';

const outdir = new URL('../bundle/', import.meta.url).pathname;
const { compilerOptions } = JSON.parse(await readFile(new URL('../tsconfig.json', import.meta.url), 'utf8'));
// tools/list with its JSON Schemas, made from the sources now rather than at every start (before
// the old bundle is removed, so that it is gone for as short a time as possible).
const toolList = await buildToolList();
await rm(outdir, { recursive: true, force: true });
const result = await build({
  // The SQLite trail's worker thread is its own entry, next to the chunk that starts it.
  entryPoints: { cli: 'src/cli.ts', 'chunks/sqlite-worker': 'src/audit/sqlite-worker.ts' },
  // better-sqlite3 is native: an optional dependency, installed beside the bundle, loaded only
  // when the trail is kept in SQLite. pg's optional native binding is never used.
  external: ['better-sqlite3', 'pg-native'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  // Minified, yet a stack trace still names the functions of ours it went through (keepOwnNames
  // below); the dependencies' names are not kept.
  // Maps stay beside the bundle for whoever debugs this checkout (without the sources, which are
  // in the repository), but are not published: they were 2.6 of the 4.7 MB an install took
  // (package.json `files` leaves them out) and the bundle names no map, so nothing looks for one.
  sourcemap: 'external',
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  // Only zod's English messages, and no zod 3 beside zod 4: 330 KiB less to parse at every start;
  // Ajv only when a person is first asked to confirm something: 140 KiB less.
  // keepOwnNames goes last: the list above puts its own module in place of src/tool-list-prebuilt.ts.
  plugins: [zodEnglishOnly, zodV4Only, ajvOnDemand, prebuiltToolListPlugin(toolList), keepOwnNames({ src: new URL('../src/', import.meta.url).pathname, compilerOptions })],
  // CommonJS dependencies (ioredis, nodemailer, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __sbmCreateRequire } from 'node:module'; const require = __sbmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const bytes = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js')).reduce((sum, [, output]) => sum + output.bytes, 0);
if (process.env.BUNDLE_REPORT) console.log(`bundle: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024).toFixed(0)} KiB of JavaScript`);
