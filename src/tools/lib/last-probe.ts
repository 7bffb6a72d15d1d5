/**
 * The last probe of a stdio server, kept in the user's cache directory, so the next launch lists
 * tools at once instead of waiting for Stripe. One file per set-up: its name is a hash of the key
 * and of every setting that changes the list, and the file never holds the key itself.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../config.js';
import type { StripeCapabilities } from '../../stripe/capabilities.js';
import type { ServiceHealth } from './tool-availability.js';

export interface LastProbe {
  capabilities: StripeCapabilities;
  services: ServiceHealth;
}

/** `$XDG_CACHE_HOME/stripe-billing-mcp`, else `~/.cache/stripe-billing-mcp`. */
export function probeCacheDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'stripe-billing-mcp');
}

/** Everything that changes which tools are listed: the key, the mode, the tool choice, mail, store, portal. */
export function probeFileName(settings: Settings, mode: 'customer' | 'staff', tools: readonly string[]): string {
  const identity = JSON.stringify({
    key: settings.STRIPE_API_KEY ?? '',
    base: settings.STRIPE_API_BASE ?? '',
    mode,
    tools: [...tools].sort(),
    smtp: settings.SMTP_URL ?? '',
    store: settings.STORE_URL ?? '',
    portal: settings.PORTAL_CONFIGURATION ?? '',
  });
  return `probe-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}.json`;
}

/** Where a probe is kept between runs: a file (stdio), or the tenant's row (platform mode). */
export interface ProbeKeeper {
  load(): Promise<LastProbe | undefined>;
  save(probe: LastProbe): Promise<void>;
}

export class LastProbeFile implements ProbeKeeper {
  constructor(private readonly path: string) {}

  /** Undefined when there is none yet, or it cannot be read (a cache is never an error). */
  async load(): Promise<LastProbe | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as LastProbe;
      return parsed.capabilities && typeof parsed.capabilities.key === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /** Written to a temporary file and renamed, mode 0600: readable by this user only. */
  async save(probe: LastProbe): Promise<void> {
    const dir = join(this.path, '..');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(probe), { mode: 0o600 });
    await rename(temporary, this.path);
  }
}
