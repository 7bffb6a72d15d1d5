import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { findFreePort } from './redis-server.js';

const execFileAsync = promisify(execFile);

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: the maintenance database, superuser, no password. */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL; without a name, one no other call gets. */
  createDatabase(name?: string): Promise<string>;
  /** Kills the server (`pg_ctl stop -m immediate`) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server but keeps its data, for testing an outage; committed rows survive a resume. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port. */
  resume(): Promise<void>;
}

/** The bin folder of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout), or undefined. */
function findPostgresBin(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql');
  } catch {
    return undefined;
  }
  versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const version of versions) {
    const bin = join('/usr/lib/postgresql', version, 'bin');
    try {
      execFileSync(join(bin, 'initdb'), ['--version'], { stdio: 'ignore' });
      return bin;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Postgres refuses to run as root: as root, its tools run as the `postgres` user. */
function asPostgresUser(file: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, [...args]];
}

/** Servers started and not yet stopped, killed synchronously if the test process exits without stopping them. */
const running = new Map<string, () => void>();
let exitHandlerInstalled = false;
function killLeftovers(): void {
  for (const kill of running.values()) kill();
  running.clear();
}

let databaseCounter = 0;

/** Starts a throwaway PostgreSQL cluster on a free loopback port (trust auth, no fsync), in a fresh temp folder. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); the Postgres tests need it: apt-get install postgresql (.ci/run does)',
    );
  }
  const initdb = join(bin, 'initdb');
  const pgCtl = join(bin, 'pg_ctl');

  const port = await findFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'sbm-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (process.getuid?.() === 0) {
    await execFileAsync('chown', ['-R', 'postgres:', dir]).catch(async (error: Error) => {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`running as root, so PostgreSQL runs as the \`postgres\` user, but chown failed (apt-get install postgresql creates the user): ${error.message}`);
    });
  }

  const run = async (file: string, args: readonly string[]): Promise<void> => {
    const [command, argv] = asPostgresUser(file, args);
    try {
      await execFileAsync(command, argv, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(
        `${[command, ...argv].join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}${log ? `\n--- postgres.log ---\n${log}` : ''}`,
      );
    }
  };

  const serverOptions = [
    `-p ${port}`,
    `-k '${dir}'`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  const startArgs = ['-D', dataDir, '-o', serverOptions, '-l', logFile, '-w', 'start'];
  const stopArgs = (mode: 'immediate' | 'fast') => ['-D', dataDir, '-m', mode, '-w', 'stop'];

  let state: 'running' | 'paused' | 'stopped' = 'stopped';
  const syncKill = () => {
    if (state === 'running') {
      const [command, argv] = asPostgresUser(pgCtl, stopArgs('immediate'));
      try {
        execFileSync(command, argv, { cwd: dir, stdio: 'ignore', timeout: 10_000 });
      } catch {
        // best effort on the way out
      }
    }
    state = 'stopped';
    rmSync(dir, { recursive: true, force: true });
  };
  if (!exitHandlerInstalled) {
    process.once('exit', killLeftovers);
    exitHandlerInstalled = true;
  }
  running.set(dir, syncKill);

  const stop = async () => {
    if (!running.has(dir)) return;
    if (state === 'running') {
      // Even a failed stop leaves nothing useful; the exit handler must not try again on a removed folder.
      await run(pgCtl, stopArgs('immediate')).catch(() => undefined);
    }
    state = 'stopped';
    running.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await run(initdb, ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await run(pgCtl, startArgs);
    state = 'running';
  } catch (error) {
    await stop();
    throw error;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const createDatabase = async (name?: string): Promise<string> => {
    const database = name ?? `test_${process.pid}_${++databaseCounter}_${Math.random().toString(36).slice(2, 8)}`;
    if (database.length === 0 || Buffer.byteLength(database) > 63) {
      throw new Error(`database name must be 1 to 63 bytes: ${JSON.stringify(database)}`);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  };

  const pause = async () => {
    if (state !== 'running') throw new Error(`cannot pause a ${state} Postgres server`);
    // Fast, not immediate: with synchronous_commit=off a commit may not be in the WAL yet, and an
    // immediate stop would lose it; a fast stop checkpoints first (quick without fsync).
    await run(pgCtl, stopArgs('fast'));
    state = 'paused';
  };

  const resume = async () => {
    if (state !== 'paused') throw new Error(`cannot resume a ${state} Postgres server`);
    await access(dataDir);
    await run(pgCtl, startArgs);
    state = 'running';
  };

  return { url, port, createDatabase, stop, pause, resume };
}

/** A PostgreSQL server for the tests of the enclosing file or block: started before them, stopped after. */
export function usePostgresServer(): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}
