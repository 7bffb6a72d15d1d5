// An esbuild plugin for scripts/bundle.mjs: esbuild's `keepNames` for this repository's own
// modules only. Minified, a stack trace still names our functions (parseStripeKey, runCommand…),
// where a bug report needs them; the dependencies' names were 68 KB more to install and to set at
// every start, for frames nobody reads. esbuild's option is all or nothing, so each of our files
// is first compiled on its own with it (the same TypeScript settings), and the helper that sets
// the names is shared rather than repeated in every module.
import { transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

// What esbuild puts at the top of a file compiled with keepNames (esbuild 0.28).
const HELPER = /^var __defProp = Object\.defineProperty;\nvar __name = \(target, value\) => __defProp\(target, "name", \{ value, configurable: true \}\);\n/m;
const HELPER_MODULE = 'sbm:keep-names';

/** `src` is the folder whose .ts/.tsx files keep their names; `compilerOptions` are tsconfig's. */
export function keepOwnNames({ src, compilerOptions }) {
  const own = new RegExp(`^${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\.tsx?$`);
  return {
    name: 'keep-own-names',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${HELPER_MODULE}$`) }, () => ({ path: HELPER_MODULE, namespace: 'keep-own-names' }));
      build.onLoad({ filter: /.*/, namespace: 'keep-own-names' }, () => ({
        contents: 'export const __name = (target, value) => Object.defineProperty(target, "name", { value, configurable: true });',
        loader: 'js',
      }));
      build.onLoad({ filter: /\.tsx?$/ }, async (args) => {
        if (!own.test(args.path)) return undefined;
        const { code } = await transform(await readFile(args.path, 'utf8'), {
          loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts',
          format: 'esm',
          target: build.initialOptions.target,
          keepNames: true,
          tsconfigRaw: { compilerOptions },
          sourcefile: args.path,
          sourcemap: 'inline',
        });
        if (!code.includes('__name(')) return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
        if (!HELPER.test(code)) throw new Error(`keep-own-names: esbuild's name helper changed (${args.path}); update HELPER in scripts/esbuild-keep-own-names.mjs`);
        // After a hashbang line, if any; imports are hoisted, so the one added here may go anywhere.
        return { contents: code.replace(HELPER, `import { __name } from '${HELPER_MODULE}';\n`), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
