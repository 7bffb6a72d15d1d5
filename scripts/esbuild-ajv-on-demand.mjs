// An esbuild plugin for scripts/bundle.mjs: the MCP SDK's Server imports its Ajv validator (Ajv,
// ajv-formats, fast-uri: 140 KiB) into the start chunk, to build one when it is given none. Ours
// is always given one (src/server.ts), which imports Ajv only when a person is first asked to
// confirm something; so the SDK's import is replaced by a stand-in that fails loudly if it is ever
// built, and Ajv goes to a chunk of its own.
const STAND_IN =
  "export class AjvJsonSchemaValidator { constructor() { throw new Error('stripe-billing-mcp gives the MCP SDK its own validator (src/server.ts; scripts/esbuild-ajv-on-demand.mjs): the SDK built its default one'); } }";

export const ajvOnDemand = {
  name: 'ajv-on-demand',
  setup(build) {
    build.onResolve({ filter: /[\\/]validation[\\/]ajv-provider\.js$/ }, (args) => {
      // Only the SDK's own Server; src/server.ts's import() of the validator is the real one.
      if (!/[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server[\\/]index\.js$/.test(args.importer)) return undefined;
      return { path: 'ajv-provider', namespace: 'ajv-on-demand' };
    });
    build.onLoad({ filter: /.*/, namespace: 'ajv-on-demand' }, () => ({ contents: STAND_IN, loader: 'js' }));
  },
};
