/**
 * `stripe-billing-mcp audit …`: read, verify, export and erase the trail, with the same
 * settings as `serve` (and while it runs: both databases take concurrent readers and writers).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { loadSettings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { createLogger } from '../log.js';
import { isPlausibleEmail, normalizeEmail } from '../verify/principal.js';
import { AuditDriverMissingError, type AuditStore } from './audit-store.js';
import { conversationHash } from './call-entry.js';
import { disclosureView, type DisclosureView } from './disclosures.js';
import { readCheckpoints } from './checkpoints.js';
import type { ErasureResult } from './sql-trail.js';
import { auditDbPath, auditEnabled, auditKeysFor, demoTrailPath, demoTrails, openAuditStore, type AuditSettings } from './create-audit-trail.js';
import type { AuditFilter, AuditRow } from './record.js';
import { verifyChain, type ChainReport } from './verify-chain.js';

export interface AuditFlags {
  email?: string | undefined;
  customer?: string | undefined;
  since?: string | undefined;
  host?: string | undefined;
  conversation?: string | undefined;
  limit?: string | undefined;
  tenant?: string | undefined;
  /** verify: a file of checkpoints (AUDIT_ANCHOR_FILE) every checkpointed record must match. */
  anchors?: string | undefined;
  json: boolean;
  jsonl: boolean;
  demo: boolean;
}

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS };

/** `2026-11-01`, an ISO time, or `7d` / `24h` / `30m` back from now. */
function sinceOf(value: string): string {
  const relative = /^(\d+)\s*([mhd])$/i.exec(value.trim());
  if (relative) return new Date(Date.now() - Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!).toISOString();
  const parsed = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new ConfigurationError(`--since must be a date (2026-11-01), a time or an age such as 7d, 24h or 30m; got "${value}".`);
  return new Date(parsed).toISOString();
}

function filterOf(flags: AuditFlags): AuditFilter {
  if (flags.email !== undefined && !isPlausibleEmail(flags.email)) throw new ConfigurationError('--email must be an email address.');
  if (flags.customer !== undefined && !/^cus_[A-Za-z0-9]+$/.test(flags.customer)) throw new ConfigurationError('--customer must be a Stripe customer id (cus_…).');
  if ((flags.host === undefined) !== (flags.conversation === undefined)) throw new ConfigurationError('--host and --conversation go together (the HOST_KEYS name and the X-Conversation-Id the host sent).');
  if (flags.tenant !== undefined && !/^ten_[A-Za-z0-9]{1,40}$/.test(flags.tenant)) throw new ConfigurationError('--tenant must be a tenant id (ten_…).');
  const limit = flags.limit === undefined ? 100 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ConfigurationError('--limit must be a whole number from 1 to 10000.');
  return {
    ...(flags.email !== undefined ? { email: normalizeEmail(flags.email) } : {}),
    ...(flags.customer !== undefined ? { customer: flags.customer } : {}),
    ...(flags.since !== undefined ? { since: sinceOf(flags.since) } : {}),
    ...(flags.tenant !== undefined ? { tenant_id: flags.tenant } : {}),
    ...(flags.host !== undefined && flags.conversation !== undefined ? { conversation: conversationHash(`host:${flags.host}:${flags.conversation}`) } : {}),
    limit,
  };
}

function matches(row: AuditRow, filter: AuditFilter): boolean {
  if (row.kind !== 'call') return false;
  if (filter.email !== undefined && row.email !== filter.email) return false;
  if (filter.customer !== undefined && !row.customer_ids.includes(filter.customer)) return false;
  if (filter.since !== undefined && row.at < filter.since) return false;
  if (filter.conversation !== undefined && row.conversation !== filter.conversation) return false;
  if (filter.tenant_id !== undefined && row.tenant_id !== filter.tenant_id) return false;
  return true;
}

function line(record: DisclosureView): string {
  const who = record.principal === 'customer' ? `customer via ${record.verified_by}${record.issuer ? ` (${record.issuer})` : ''}${record.unverified ? ' UNVERIFIED' : ''}` : (record.principal ?? '');
  const shown = record.outcome === 'ok' ? `shown: ${record.disclosed.join(', ') || 'nothing'}${record.write ? `; did: ${record.write}` : ''}` : `${record.outcome}: ${record.reason}`;
  return [`#${record.seq}`, record.at, ...(record.tenant_id ? [record.tenant_id] : []), record.surface, record.caller ?? '-', who, record.tool, shown, record.email ?? (record.customer_ids.length === 0 && record.principal !== 'customer' ? '-' : '(erased)'), record.customer_ids.join(' ')].join('  ');
}

/** The verdict as a person reads it: intact (and how far that proves anything), or the first broken record. */
function verdict(report: ChainReport, anchors: string | undefined): string {
  if (!report.ok) return `BROKEN at record #${report.broken!.seq}: ${report.broken!.reason}.\n`;
  const notes = [
    ...(report.anchored_by ? [`from retention anchor #${report.anchored_by}`] : []),
    ...(report.unkeyed_through !== null
      ? [`records ${report.first_seq}…${report.unkeyed_through} are unkeyed: written before the chain was keyed, so whoever could write the database could have rewritten them; --anchors checks them against your checkpoints`]
      : []),
    ...(report.checkpoints ? [`${report.checkpoints.checked} checkpoints from ${anchors} match${report.checkpoints.purged > 0 ? ` (${report.checkpoints.purged} name records retention has since purged)` : ''}`] : []),
  ];
  return `OK: ${report.records} records, ${report.first_seq ?? '-'}…${report.last_seq ?? '-'}, chain intact${notes.length > 0 ? ` (${notes.join('; ')})` : ''}.\n`;
}

/** What `audit erase` did, in words: the records, the requests, and what is left to do. */
function erasureSummary(result: ErasureResult): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const canceled = result.canceled_requests.length > 0 ? ` (${plural(result.canceled_requests.length, 'waiting one', 'waiting ones')} canceled first)` : '';
  const lines = [`Erased the personal fields of ${result.records} records and ${plural(result.requests, 'action request', 'action requests')}${canceled}; the chain still verifies.`];
  if (result.requests_in_flight.length > 0) {
    lines.push(
      `Not erased yet: ${plural(result.requests_in_flight.length, 'request is', 'requests are')} being carried out at Stripe right now (${result.requests_in_flight.join(', ')}); ` +
        'they keep the email and customer id until they finish. Run this command again in a few minutes.',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** Every record in chain order that matches, a page at a time (export streams; no limit). */
async function exportJsonl(store: AuditStore, filter: AuditFilter): Promise<number> {
  let count = 0;
  for (let after = 0; ; ) {
    const rows = await store.page(after, 5_000);
    for (const row of rows) {
      if (!matches(row, filter)) continue;
      await writeOut(`${JSON.stringify(disclosureView(row))}\n`);
      count += 1;
    }
    if (rows.length < 5_000) return count;
    after = rows[rows.length - 1]!.seq;
  }
}

/** The trail a command reads: the one serve writes with these settings, or with --demo a demo's. */
interface TrailChoice {
  settings: AuditSettings;
  /** The SQLite file; undefined for Postgres. */
  file: string | undefined;
  /** How the file was chosen, when that is not obvious (which demo, which others there are). */
  notes: string[];
  /** What to say when the file does not exist. */
  missing: string;
}

const DEMO_HOW = 'start one with npm run demo (or stripe-billing-mcp serve --demo); it records every answer there';

function otherDemos(trails: ReturnType<typeof demoTrails>): string {
  return trails.map((trail) => `${basename(trail.path, '.db')} (last written ${trail.modified.toISOString().slice(0, 16).replace('T', ' ')} UTC)`).join(', ');
}

function chooseTrail(settings: AuditSettings, demo: boolean, env: Record<string, string | undefined>): TrailChoice {
  if (settings.DATABASE_URL) return { settings, file: undefined, notes: [], missing: '' };
  if (settings.AUDIT_DB) return { settings, file: settings.AUDIT_DB, notes: [], missing: `No audit trail at ${settings.AUDIT_DB} (AUDIT_DB): nothing has been recorded there. Check the path.` };
  const trails = demoTrails();
  if (!demo) {
    const file = auditDbPath(settings, false);
    const hint = trails.length > 0 ? ` The demo keeps its trail apart: read it with stripe-billing-mcp audit --demo (latest: ${trails[0]!.path}).` : '';
    return { settings, file, notes: [], missing: `No audit trail at ${file}: serve creates it there when it starts (AUDIT_DB or DATABASE_URL put it elsewhere).${hint}` };
  }
  // A port named: that demo's trail. Otherwise the latest demo's, naming the others.
  if (env.PORT && settings.PORT !== 0) {
    const file = demoTrailPath(settings.PORT);
    const others = trails.filter((trail) => trail.path !== file);
    return { settings, file, notes: [], missing: `No demo trail for port ${settings.PORT} at ${file}: ${DEMO_HOW}.${others.length > 0 ? ` Other demo trails: ${otherDemos(others)}.` : ''}` };
  }
  const latest = trails[0];
  if (!latest) return { settings, file: demoTrailPath(settings.PORT), notes: [], missing: `No demo trail yet: ${DEMO_HOW}.` };
  const others = trails.slice(1);
  const notes = others.length > 0 ? [`the latest demo's; ${others.length === 1 ? 'another' : `${others.length} others`}: ${otherDemos(others)}. Choose one with PORT=<its port> stripe-billing-mcp audit --demo`] : ["the latest demo's"];
  return { settings: { ...settings, AUDIT_DB: latest.path }, file: latest.path, notes, missing: '' };
}

function unknownAction(action: string | undefined): ConfigurationError {
  return new ConfigurationError(`Unknown audit action "${action}". Use: audit [list], audit verify, audit export --jsonl, audit erase --email …, audit purge.`);
}

export async function runAuditCommand(action: string | undefined, flags: AuditFlags): Promise<number> {
  const settings = loadSettings(process.env);
  if (!auditEnabled(settings, 'audit')) throw new ConfigurationError('The audit trail is off (AUDIT=off): there is nothing to read.');
  const known = ['list', 'verify', 'export', 'erase', 'purge'];
  if (!known.includes(action ?? 'list')) {
    throw unknownAction(action);
  }
  // Every flag is checked before the database is opened: a typo creates no file and reads nothing.
  const filter = filterOf(flags);
  if (action === 'export' && !flags.jsonl) throw new ConfigurationError('audit export writes JSON Lines: add --jsonl.');
  if (action === 'erase' && (flags.email === undefined || !isPlausibleEmail(flags.email))) throw new ConfigurationError("audit erase needs --email with the data subject's email address.");
  if (flags.anchors !== undefined && action !== 'verify') throw new ConfigurationError('--anchors goes with audit verify.');
  const checkpoints = flags.anchors === undefined ? undefined : readCheckpoints(flags.anchors);
  const log = createLogger({ level: settings.LOG_LEVEL });
  const trail = chooseTrail(settings, flags.demo, process.env);
  // A malformed AUDIT_KEY (or key file) is a setting to fix whether or not the trail exists; nothing is generated here.
  auditKeysFor(trail.settings, flags.demo, false);
  // Opening a SQLite file creates it: a command that finds no trail says where it looked instead.
  if (trail.file !== undefined && !existsSync(trail.file)) {
    process.stderr.write(`stripe-billing-mcp: ${trail.missing}\n`);
    return 1;
  }
  // Only the actions that write records need the chain key; reading never generates one.
  const store = await openAuditStore(trail.settings, { demo: flags.demo, log, createKey: action === 'erase' || action === 'purge' });
  // Which database answered, on stderr: stdout stays the answer itself (JSON, JSON Lines).
  process.stderr.write(`Audit trail: ${store.backend === 'postgres' ? `Postgres at ${store.location}` : `SQLite file ${store.location}`}${trail.notes.length > 0 ? ` (${trail.notes.join('; ')})` : ''}\n`);
  try {
    await store.migrate();
    switch (action ?? 'list') {
      case 'list': {
        const records = (await store.find(filter)).filter((row) => row.kind === 'call').map(disclosureView);
        if (flags.json) await writeOut(`${JSON.stringify({ records }, null, 2)}\n`);
        else await writeOut(records.length === 0 ? 'No records match.\n' : `${records.map(line).join('\n')}\n`);
        // The demo's answers are not in the real trail: a newcomer looking for them is told where they are.
        if (records.length === 0 && !flags.demo && !settings.AUDIT_DB && !settings.DATABASE_URL && demoTrails().length > 0) {
          process.stderr.write('The demo (npm run demo, serve --demo) keeps its records apart: read them with stripe-billing-mcp audit --demo.\n');
        }
        return 0;
      }
      case 'export': {
        const { limit: _limit, ...everything } = filter;
        await exportJsonl(store, everything);
        return 0;
      }
      case 'verify': {
        const report = await verifyChain(store, checkpoints ? { checkpoints } : {});
        await writeOut(flags.json ? `${JSON.stringify(report, null, 2)}\n` : verdict(report, flags.anchors));
        return report.ok ? 0 : 1;
      }
      case 'erase': {
        const result = await store.erase(normalizeEmail(flags.email!), flags.tenant);
        await writeOut(flags.json ? `${JSON.stringify({ erased: result.records, requests: result.requests, canceled_requests: result.canceled_requests, requests_in_flight: result.requests_in_flight })}\n` : erasureSummary(result));
        // A request being carried out still holds them: the erasure is not complete until it ends.
        return result.requests_in_flight.length > 0 ? 1 : 0;
      }
      case 'purge': {
        const cutoff = new Date(Date.now() - settings.AUDIT_RETENTION_DAYS * DAY_MS).toISOString();
        const purged = await store.purgeBefore(cutoff);
        await writeOut(flags.json ? `${JSON.stringify({ purged, cutoff })}\n` : `Purged ${purged} records older than ${settings.AUDIT_RETENTION_DAYS} days (before ${cutoff}).\n`);
        return 0;
      }
      default:
        throw unknownAction(action);
    }
  } catch (error) {
    if (error instanceof AuditDriverMissingError) throw new ConfigurationError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}
