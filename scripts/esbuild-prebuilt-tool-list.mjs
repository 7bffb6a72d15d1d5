// An esbuild plugin for scripts/bundle.mjs: the bundle answers tools/list from entries made now,
// at build time, instead of converting every tool's zod schemas to JSON Schema at each start.
// The entries come from running `prebuiltToolList()` of src/server.ts (the functions the
// server itself lists with, so whatever shapes the schemas shapes these too), bundled from this
// same checkout; the plugin then puts them in place of src/tool-list-prebuilt.ts, whose own value
// (undefined) src and dist keep. test/tool-listing.test.ts compares the bundle's list with the SDK's.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = new URL('../', import.meta.url).pathname;

/** `{ customer: { name: Tool }, staff: { … } }`, as src/server.ts makes it from the sources. */
export async function buildToolList() {
  const dir = await mkdtemp(join(tmpdir(), 'sbm-tool-list-'));
  try {
    const script = join(dir, 'tool-list.mjs');
    const result = await build({
      stdin: { contents: "import { prebuiltToolList } from './src/server.ts'; process.stdout.write(JSON.stringify(prebuiltToolList()));", resolveDir: root, loader: 'ts', sourcefile: 'tool-list-entry.ts' },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['better-sqlite3', 'pg-native'],
      banner: { js: "import { createRequire as __sbmCreateRequire } from 'node:module'; const require = __sbmCreateRequire(import.meta.url);" },
      write: false,
      logLevel: 'warning',
    });
    await writeFile(script, result.outputFiles[0].contents);
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' } });
    const list = JSON.parse(stdout);
    if (!list.customer || !list.staff || Object.keys(list.customer).length === 0) throw new Error('esbuild-prebuilt-tool-list: no tools listed');
    return list;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Puts `list` in place of src/tool-list-prebuilt.ts. A tool listed in both modes differs only in
 * its input schema, so the rest of each entry (description, output schema, …) is stored once and
 * joined again when the module loads; stored as JSON text, which V8 reads faster than a literal.
 */
export function prebuiltToolListPlugin(list) {
  const parts = [];
  const partIndex = new Map();
  const modes = {};
  for (const [mode, tools] of Object.entries(list)) {
    modes[mode] = {};
    for (const [name, { inputSchema, ...rest }] of Object.entries(tools)) {
      const key = JSON.stringify(rest);
      if (!partIndex.has(key)) partIndex.set(key, parts.push(rest) - 1);
      modes[mode][name] = [partIndex.get(key), inputSchema];
    }
  }
  const contents = `const { parts, modes } = JSON.parse(${jsString(JSON.stringify({ parts, modes }))});
export const PREBUILT_TOOL_LIST = Object.fromEntries(Object.entries(modes).map(([mode, tools]) => [mode, Object.fromEntries(Object.entries(tools).map(([name, [part, inputSchema]]) => {
  const { title, description, annotations, execution, _meta, outputSchema } = parts[part];
  return [name, { name, title, description, inputSchema, annotations, execution, _meta, outputSchema }];
}))]));
`;
  return {
    name: 'prebuilt-tool-list',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]tool-list-prebuilt\.ts$/ }, () => ({ contents, loader: 'js' }));
    },
  };
}

/** A single-quoted JavaScript string of `text` (JSON has many double quotes and few single ones). */
function jsString(text) {
  return `'${text.replace(/[\\'\n\r\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}
