// `node <dir>/dist/cli.js serve` for a build other than this checkout's (a "before" build made
// with `git archive` into a temporary folder), with node flags of the bench's choosing
// (--cpu-prof, --heapsnapshot-signal, --expose-gc): bench/support/processes.mjs's startServe,
// each server with a data folder of its own (its working folder unless told), removed on stop.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe } from './processes.mjs';

const START_TIMEOUT_MS = 30_000;
// Long enough for a --cpu-prof profile to be written after SIGTERM.
const STOP_TIMEOUT_MS = 10_000;

/** This checkout (the folder holding bench/). */
export const THIS_CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI of a checkout folder; fails early, with what to do, when it was not built. */
export function cliOf(dir) {
  const cli = join(resolve(dir), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` in ${dir} first`);
  return cli;
}

/**
 * Starts `serve` from `dir` on a free loopback port with exactly `env` (plus PATH, HOST, PORT,
 * LOG_LEVEL=silent and a throw-away XDG_DATA_HOME for the audit trail); resolves once /healthz
 * answers. `stop()` sends SIGTERM and waits for the exit, so --cpu-prof profiles get written.
 */
export async function startServeFrom(dir, env, { nodeArgs = [], cwd } = {}) {
  const cli = cliOf(dir);
  const dataHome = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const server = await startServe(env, { cli, nodeArgs, cwd: cwd ?? dataHome, xdgDataHome: dataHome, startTimeoutMs: START_TIMEOUT_MS, stopTimeoutMs: STOP_TIMEOUT_MS });
  return {
    ...server,
    dataHome,
    async stop() {
      await server.stop();
      rmSync(dataHome, { recursive: true, force: true });
    },
  };
}
