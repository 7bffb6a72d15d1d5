// An esbuild plugin for scripts/bundle.mjs: the MCP SDK accepts zod 3 and zod 4 schemas, so it
// imports zod/v3 (a second zod, 56 KiB) and zod-to-json-schema (20 KiB, the v3 converter) into the
// start chunk. Every schema of this server is zod 4 (src imports only `zod`), so the SDK never
// takes those branches here: they are replaced by stand-ins that fail loudly if one ever did.
const STAND_INS = {
  'zod/v3': "export function object() { throw new Error('stripe-billing-mcp is bundled for zod 4 schemas only (scripts/esbuild-zod-v4-only.mjs): a zod 3 schema reached the MCP SDK'); }",
  'zod-to-json-schema': "export function zodToJsonSchema() { throw new Error('stripe-billing-mcp is bundled for zod 4 schemas only (scripts/esbuild-zod-v4-only.mjs): a zod 3 schema reached the MCP SDK'); }",
};

export const zodV4Only = {
  name: 'zod-v4-only',
  setup(build) {
    build.onResolve({ filter: /^(zod\/v3|zod-to-json-schema)$/ }, (args) => {
      // Only the SDK's zod-compat modules, which pick a branch by the schema's version at run time.
      if (!/[\\/]@modelcontextprotocol[\\/]sdk[\\/]/.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'zod-v4-only' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-v4-only' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js' }));
  },
};
