import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The stdio server keeps its last probe under XDG_CACHE_HOME: tests keep theirs apart from the user's. */
export const TEST_CACHE_HOME = join(tmpdir(), `sbm-test-cache-${process.pid}`);

/** `serve` keeps its audit trail under XDG_DATA_HOME: tests keep theirs apart from the user's. */
export const TEST_DATA_HOME = join(tmpdir(), `sbm-test-data-${process.pid}`);

/** The environment a fresh shell would give the CLI: nothing of ours leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', XDG_CACHE_HOME: TEST_CACHE_HOME, XDG_DATA_HOME: TEST_DATA_HOME, ...extra };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion with stdin closed. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<CliRun> {
  return runNodeScript(CLI_PATH, args, { env: cleanEnv(env), timeoutMs, label: 'CLI' });
}

/** Runs a Node script to completion with stdin closed, in exactly the environment given. */
export function runNodeScript(script: string, args: string[], options: { env: Record<string, string>; cwd?: string; timeoutMs?: number; label?: string }): Promise<CliRun> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.label ?? script} did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}
