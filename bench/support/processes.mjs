// Child processes of the benches — the fake Stripe, `serve` processes, redis-server, scripts of
// their own such as bench/soak.mjs's load generator — each on a free loopback port, plus what the
// bench reads about them (/proc CPU time and RSS).
// Every child is registered so that stopAll() (and, as a last resort, process exit) ends it.
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const FAKE_STRIPE = fileURLToPath(new URL('./fake-stripe-server.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set();

function track(child) {
  children.add(child);
  // A spawn that fails (ENOENT) emits 'error', maybe never 'exit': waitUntil reports it.
  child.once('error', (error) => {
    child.spawnError = error;
  });
  child.once('exit', () => children.delete(child));
  return child;
}

/** Ends every child still running: SIGTERM, then SIGKILL after STOP_TIMEOUT_MS. */
export async function stopAll() {
  await Promise.all([...children].map((child) => stopChild(child)));
}

// If the bench dies before stopAll() (an uncaught error, Ctrl-C), children must not outlive it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the bench's processes\n`);
    stopAll().finally(() => process.exit(130));
  });
}

async function stopChild(child, signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
  if (child.exitCode !== null || child.signalCode !== null || child.spawnError || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** A port nobody listens on right now (the OS picks it; the child binds it a moment later). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The last few KB a child wrote to stderr: said when it fails to start. */
function captureStderr(child) {
  let tail = '';
  child.stderr?.on('data', (chunk) => {
    tail = (tail + chunk).slice(-4000);
  });
  return () => tail.trim();
}

/** Polls `ready` until it resolves true; fails if the child exits or `timeoutMs` passes. */
async function waitUntil(child, what, ready, stderrTail, timeoutMs = START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.spawnError) throw new Error(`${what} could not be started: ${child.spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up (${child.exitCode ?? child.signalCode}):\n${stderrTail()}`);
    if (await ready().catch(() => false)) return;
    await sleep(20);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms:\n${stderrTail()}`);
}

/**
 * A bench script in a process of its own (fork, with IPC): resolves once its first message (what
 * it sends when ready) arrives, with that message. `stderrTail()` is the last of what it wrote to
 * stderr; `stop()` disconnects the IPC channel, the script's signal to close and exit.
 */
export async function startForked(file, env, what, { execArgv } = {}) {
  const child = track(fork(file, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], ...(execArgv ? { execArgv } : {}) }));
  const stderrTail = captureStderr(child);
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${stderrTail()}`)), START_TIMEOUT_MS);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${stderrTail()}`));
    });
  });
  return {
    child,
    ready,
    stderrTail,
    stop: () => {
      if (child.connected) child.disconnect();
      return stopChild(child);
    },
  };
}

/** The fake Stripe process; `requests()` reads its log, `rateLimits()` its limiter's figures, `reset()` clears both. */
export async function startFakeStripe(env) {
  const { ready, stop } = await startForked(FAKE_STRIPE, env, 'fake Stripe');
  const { url } = ready;
  return {
    url,
    async requests() {
      const response = await fetch(`${url}/__bench/requests`);
      return (await response.json()).requests;
    },
    /** { limits, stats: { limited, busiestSecond: { global, search, endpoint } } }, null without FAKE_RATE_LIMITS. */
    async rateLimits() {
      const response = await fetch(`${url}/__bench/rate-limits`);
      return response.json();
    },
    async reset() {
      await fetch(`${url}/__bench/reset`, { method: 'POST' });
    },
    // Disconnecting the IPC channel is the fake's signal to close and exit.
    stop,
  };
}

// `serve` keeps its audit trail (on by default, SQLite) under XDG_DATA_HOME: here, not the user's.
let benchDataHome;
function dataHome() {
  if (!benchDataHome) {
    benchDataHome = mkdtempSync(join(tmpdir(), 'bench-data-'));
    process.once('exit', () => rmSync(benchDataHome, { recursive: true, force: true }));
  }
  return benchDataHome;
}

/**
 * `node dist/cli.js serve` with exactly these settings; resolves once /healthz answers (after the
 * start-up probe). `onLogLine` gets each line the server writes to stderr (with LOG_LEVEL set).
 * bench/support/serve-build.mjs passes the rest: another build's `cli`, node flags, its own
 * working and data folders, and longer timeouts.
 */
export async function startServe(env, { onLogLine, cli = CLI, nodeArgs = [], cwd, xdgDataHome, startTimeoutMs, stopTimeoutMs } = {}) {
  const port = await freePort();
  // A clean environment: settings from the shell (TOOLS, CACHE_URL, …) must not change the figures.
  // `cli`: another build's dist/cli.js (a bench's "before" column).
  const child = track(
    spawn(process.execPath, [...nodeArgs, cli, 'serve'], {
      cwd,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', XDG_DATA_HOME: xdgDataHome ?? dataHome(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  if (onLogLine) createInterface({ input: child.stderr }).on('line', onLogLine);
  const url = `http://127.0.0.1:${port}`;
  const stderrTail = captureStderr(child);
  await waitUntil(child, `serve on port ${port}`, async () => (await fetch(`${url}/healthz`)).ok, stderrTail, startTimeoutMs);
  return { url, pid: child.pid, stderrTail, signal: (name) => child.kill(name), stop: () => stopChild(child, 'SIGTERM', stopTimeoutMs) };
}

/** A throw-away redis-server (no persistence) in a temporary directory, removed on stop. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderrTail = captureStderr(child);
  await waitUntil(child, `redis-server on port ${port}`, () => redisCommand(`redis://127.0.0.1:${port}`, 'PING', 500).then((reply) => reply.startsWith('+PONG')), stderrTail);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One inline command to a Redis (PING, FLUSHALL): its first reply line, trimmed; rejects on no answer. */
export function redisCommand(url, command, timeoutMs = 2_000) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => socket.write(`${command}\r\n`));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${command}: no answer`)));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`${command}: connection closed`)));
  });
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) and resident memory (MB, now and peak) of a process, from /proc. */
export function processStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])]; // fields 14 and 15 of stat(5)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuMs: ((utime + stime) * 1000) / CLOCK_TICKS, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/**
 * Runs a bench's main() with its guards: a watchdog that stops a step hanging past the deadline
 * (checkDeadline() stops between steps), an exit code on error, and `stop` whatever happens.
 */
export async function runGuarded({ main, stop, deadline, progress, done = 'done; every child process stopped' }) {
  const watchdog = setTimeout(() => {
    progress('watchdog: the bench is stuck past its deadline; stopping');
    stop().finally(() => process.exit(1));
  }, deadline - Date.now() + 60_000);
  watchdog.unref();
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    console.error(error);
  } finally {
    await stop();
    progress(done);
  }
}
