// `node <dir>/dist/cli.js serve` for a build other than this checkout's (a "before" build made
// with `git archive` into a temporary folder), with node flags of the bench's choosing
// (--cpu-prof, --heapsnapshot-signal, --expose-gc). bench/support/processes.mjs starts this
// checkout's build only; what is shared with it (free ports, /proc figures) comes from there.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './processes.mjs';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const children = new Set();
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// A bench that dies before stopping its servers must not leave them running.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

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
  const port = await freePort();
  const dataHome = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const child = spawn(process.execPath, [...nodeArgs, cliOf(dir), 'serve'], {
    cwd: cwd ?? dataHome,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', XDG_DATA_HOME: dataHome, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((done) => child.once('exit', done));
  child.once('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve from ${dir} exited during start-up:\n${stderr}`);
    if (await fetch(`${url}/healthz`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`serve from ${dir} did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${stderr}`);
    await sleep(50);
  }
  return {
    url,
    pid: child.pid,
    dataHome,
    stderrTail: () => stderr.trim(),
    signal: (name) => child.kill(name),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataHome, { recursive: true, force: true });
    },
  };
}
