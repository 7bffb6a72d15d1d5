// An esbuild plugin shared by scripts/bundle.mjs (the published bundle) and scripts/build-card.mjs
// (the billing card's page). zod re-exports its ~40 message locales as a namespace (z.locales),
// and a namespace import keeps all of them: 258 KiB, parsed at every start of the server and half
// the card. Only English is ever used (zod's own default, imported directly by zod/v4/classic),
// so z.locales here holds English alone.
import { dirname, resolve } from 'node:path';

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: resolve(dirname(args.importer), args.path.replace(/index\.js$/, 'en.js')), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: '/' }));
  },
};
