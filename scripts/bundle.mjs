// The published package: src/cli.ts and everything it uses in one minified ESM bundle, split
// so that what most runs never touch (the HTTP server and panel, the demo's fake Stripe, Redis,
// mail, the doctor, Postgres) loads only on `await import()`. Every npm dependency is inside but
// one: better-sqlite3, the audit trail's native SQLite driver, is an optional dependency.
// Run: node scripts/bundle.mjs   (part of `npm run build`)
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

const outdir = new URL('../bundle/', import.meta.url).pathname;
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
  sourcemap: true,
  // Maps point at lines; the sources themselves are in the repository, not in every install.
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  // CommonJS dependencies (ioredis, nodemailer, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __sbmCreateRequire } from 'node:module'; const require = __sbmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const bytes = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js')).reduce((sum, [, output]) => sum + output.bytes, 0);
if (process.env.BUNDLE_REPORT) console.log(`bundle: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024).toFixed(0)} KiB of JavaScript`);
