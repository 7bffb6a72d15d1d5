import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on right now (the OS picks it). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** One raw PING over TCP; true when the server answers +PONG. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

/** Starts the real `redis-server` binary on a free loopback port, with nothing persisted; `extraArgs` e.g. a maxmemory. */
export async function startRedisServer(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const port = await findFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'sbm-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--dir', dir, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  let failure: Error | undefined;
  let exited = false;
  // A binary that never started emits 'error' and no 'exit'; either one means it is gone.
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => ((exited = true), resolve()));
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure =
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed; the store tests need it: apt-get install redis-server')
          : error;
      if (child.pid === undefined) ((exited = true), resolve());
    });
  });
  // A crashed test run must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      await exitedPromise;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 5_000;
  for (;;) {
    if (failure !== undefined || exited) {
      await stop();
      throw failure ?? new Error(`redis-server exited before accepting connections:\n${output}`);
    }
    if (await pingOnce(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} within 5 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** A redis-server for the tests of the enclosing file or block: started before them, stopped after. */
export function useRedisServer(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}
