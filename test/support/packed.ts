/**
 * What a user's installed `stripe-billing-mcp` runs: the packed tarball, installed into an empty folder,
 * with none of this repository's node_modules.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PackedInstall {
  /** The temporary folder that holds the tarball and app/. */
  dir: string;
  tarball: string;
  /** The tarball's files, as `npm pack` lists them. */
  files: string[];
  /** The empty app the tarball is installed into. */
  app: string;
  /** The installed package's bundle/cli.js: what its `bin` runs. */
  cli: string;
  remove(): Promise<void>;
}

/**
 * Puts the optional better-sqlite3 driver (and what it loads at run time) beside the installed
 * package, as `npm install` does when it can build it: copied from this repository's build, so
 * the test does not compile SQLite again.
 */
export async function addSqliteDriver(app: string): Promise<void> {
  for (const name of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
    await cp(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), { recursive: true });
  }
}

/** Packs the package (without building: `npm test` has just built) and installs it into an empty app. */
export async function installPacked(): Promise<PackedInstall> {
  const dir = await mkdtemp(join(tmpdir(), 'sbm-pack-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = join(dir, info!.filename);
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), '{"name":"empty-app","private":true}');
    // Without the optional SQLite driver: the smallest install (`addSqliteDriver` adds it).
    await run('npm', ['install', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app });
    return {
      dir,
      tarball,
      files: info!.files.map((file) => file.path),
      app,
      cli: join(app, 'node_modules', 'stripe-billing-mcp', 'bundle', 'cli.js'),
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
