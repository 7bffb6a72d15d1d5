import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { CLI_PATH, cleanEnv } from './cli.js';
import { findFreePort } from './redis-server.js';

/** A `serve --demo` child process of the built CLI, on its own loopback port. */
export interface ServedProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** `serve --demo` with these settings (over a clean environment); resolves once its banner is out. */
export async function startServeDemo(env: Record<string, string>): Promise<ServedProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--demo'], { env: cleanEnv({ PORT: String(port), LOG_LEVEL: 'warn', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (stdout.includes('Press Ctrl-C')) resolve();
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`serve --demo exited with ${code} before its banner:\n${stderr}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Processes pushed here are killed after each test of the enclosing file or block, if still running. */
export function killedAfterEach(): ServedProcess[] {
  const started: ServedProcess[] = [];
  afterEach(async () => {
    for (const served of started.splice(0)) {
      if (served.child.exitCode === null && served.child.signalCode === null) {
        served.child.kill('SIGKILL');
        await served.exited;
      }
    }
  });
  return started;
}

/** A `serve` child process of the built CLI (PORT=0) and the loopback URL it logged. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
}

/**
 * Starts `stripe-billing-mcp serve` as its own process (PORT=0, over a clean environment) and
 * waits for the URL it logs. `started`, when given, receives the child at once, so a caller can
 * stop it even when it never comes up.
 */
export function startServer(env: Record<string, string>, options: { started?: ChildProcess[]; timeoutMs?: number } = {}): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'serve'], { env: cleanEnv({ LOG_LEVEL: 'info', PORT: '0', ...env }), stdio: ['ignore', 'ignore', 'pipe'] });
    options.started?.push(child);
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), options.timeoutMs ?? 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
}

/** SIGTERM (a graceful stop), then SIGKILL if the process is still there after a few seconds. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
