// A throw-away PostgreSQL cluster for bench/audit.mjs: initdb and pg_ctl from the newest
// /usr/lib/postgresql/*/bin, a fresh temporary folder, a free loopback port, trust auth. As
// root, Postgres's tools run as the `postgres` user (runuser), as test/support/postgres-server.ts
// does for the tests (replicated here: the benches import nothing from test/).
//
// Unlike the tests' cluster, durability is left at Postgres's defaults (fsync, synchronous_commit
// and full_page_writes on), as a production server would run; `durable: false` takes the tests'
// settings (all three off). stop() stops the cluster and removes its folder; if the bench exits
// without calling it, an exit handler does the same synchronously.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './processes.mjs';

const execFileAsync = promisify(execFile);

/** The bin folder of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout). */
function postgresBin() {
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql');
  } catch {
    // not installed
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
  throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql, or run without it (ONLY=…, see the header of bench/audit.mjs)');
}

/** Postgres refuses to run as root: as root, its tools run as the `postgres` user. */
const asPostgresUser = (file, args) => (process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args]);

const clusters = new Set();
process.once('exit', () => {
  for (const cluster of clusters) cluster.stopNow();
});

/** Starts a cluster; resolves with { url (maintenance database, superuser), port, version, createDatabase(name), stop() }. */
export async function startPostgres({ durable = true } = {}) {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const stopArgs = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
  let running = false;

  const run = async (tool, args) => {
    const [command, argv] = asPostgresUser(join(bin, tool), args);
    try {
      await execFileAsync(command, argv, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').slice(-4000);
      } catch {
        // no log yet
      }
      throw new Error(`${[command, ...argv].join(' ')} failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}${log ? `\n--- postgres.log ---\n${log}` : ''}`);
    }
  };

  const cluster = {
    /** Synchronous, for the exit handler: the data is thrown away, so an immediate stop. */
    stopNow() {
      if (running) {
        const [command, argv] = asPostgresUser(join(bin, 'pg_ctl'), stopArgs);
        try {
          execFileSync(command, argv, { cwd: dir, stdio: 'ignore', timeout: 10_000 });
        } catch {
          // best effort on the way out
        }
        running = false;
      }
      rmSync(dir, { recursive: true, force: true });
      clusters.delete(cluster);
    },
  };
  clusters.add(cluster);

  const stop = async () => {
    if (!clusters.has(cluster)) return;
    if (running) await run('pg_ctl', stopArgs).catch(() => undefined);
    running = false;
    cluster.stopNow();
  };

  try {
    if (process.getuid?.() === 0) await execFileAsync('chown', ['-R', 'postgres:', dir]);
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const options = [`-p ${port}`, `-k '${dir}'`, '-c listen_addresses=127.0.0.1', ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'])];
    await run('pg_ctl', ['-D', dataDir, '-o', options.join(' '), '-l', logFile, '-w', 'start']);
    running = true;
  } catch (error) {
    await stop();
    throw error;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const version = execFileSync(join(bin, 'postgres'), ['--version']).toString().trim();
  return {
    url,
    port,
    version,
    /** Creates an empty database; resolves with its URL. */
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    stop,
  };
}
