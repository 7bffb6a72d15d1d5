/**
 * tools/list made when the bundle was built: undefined here, in src and dist, which convert the
 * schemas at run time. scripts/bundle.mjs replaces this module in the bundle with the value of
 * `prebuiltToolList()` (src/server.ts) computed from the same sources.
 */
import type { PrebuiltToolList } from './server.js';

export const PREBUILT_TOOL_LIST: PrebuiltToolList | undefined = undefined;
