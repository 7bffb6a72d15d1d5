import { join } from 'node:path';
import { loadSettings, type Settings } from './config.js';
import { ConfigurationError } from './errors.js';
import type { AuditTrail } from './audit/audit-trail.js';
import { auditEnabled } from './audit/create-audit-trail.js';
import { createLogger, flushLogs, type Logger } from './log.js';
import { createRuntime } from './runtime.js';
import { loadStripeSdk } from './stripe/sdk.js';
import { serveStdio } from './server.js';
import type { ToolRuntime } from './tools/lib/context.js';
import type { AnyToolDefinition } from './tools/lib/define-tool.js';
import { LastProbeFile, probeCacheDir, probeFileName } from './tools/lib/last-probe.js';
import { startToolAvailability } from './tools/lib/tool-availability.js';
import { selectTools } from './tools/registry.js';
import { createIdentityTokenVerifier } from './verify/identity-token.js';
import { stdioConversationKey, stdioPrincipalResolver } from './verify/stdio-principal.js';

export interface CommandFlags {
  staff: boolean;
  demo: boolean;
  'demo-verify': boolean;
  json: boolean;
}

/** stdio: how long the availability probe waits for a first tools/list before it runs anyway. */
const PROBE_AFTER_START_MS = 5_000;

/** stdio, serve or doctor, with validated settings: everything after the command line is parsed. */
export async function runCommand(command: 'stdio' | 'serve' | 'doctor', values: CommandFlags): Promise<void> {
  let settings = loadSettings(process.env);
  const log = createLogger({ level: settings.LOG_LEVEL });
  let demoSetup: Awaited<ReturnType<typeof import('./demo/in-process.js')['inProcessDemo']>> | undefined;
  if (values.demo) {
    const demo = await import('./demo/in-process.js');
    demoSetup = await demo.inProcessDemo(settings, { staff: values.staff, verify: values['demo-verify'] || command === 'serve', http: command === 'serve' });
    settings = demoSetup.settings;
    log.info({ customer: values.staff ? undefined : demo.DEMO_CUSTOMER_EMAIL }, 'demo mode: built-in demo Stripe account, in-process');
  }

  const audit = command !== 'doctor' && auditEnabled(settings, command) ? await startAuditTrail(settings, values.demo, log) : undefined;
  // Only `serve` has the webhook route, so only there do events keep cached answers fresh.
  const runtime = createRuntime({ settings, log, fetch: demoSetup?.fetch, mailer: demoSetup?.mailer, webhooks: command === 'serve' && settings.STRIPE_WEBHOOK_SECRET !== undefined, audit, actions: command !== 'doctor' });
  const tools = selectTools(toolSelection(settings));
  if (command === 'doctor') {
    process.exitCode = await runDoctorCommand({ settings, runtime, tools, json: values.json, demo: values.demo });
    await Promise.all([runtime.store.close(), runtime.reads.close(), runtime.budget.close()]);
    return;
  }
  // A customer whose token is seen for the first time asks a question next: warm their reads.
  const verifier = createIdentityTokenVerifier(settings, (principal) => runtime.reads.warm(principal.email));
  if (!values.staff && settings.CUSTOMER_TOKEN && !verifier) {
    throw new ConfigurationError('CUSTOMER_TOKEN is set but neither IDENTITY_SECRET nor IDENTITY_JWKS_URL is, so it cannot be verified.');
  }
  if (command !== 'serve' && !values.staff && !settings.CUSTOMER_TOKEN && !runtime.verification) {
    log.warn('customer mode without CUSTOMER_TOKEN or email verification (SMTP_URL): customer tools will answer that the customer is not verified (use --staff for merchant staff)');
  }
  if (runtime.key.mode === 'live' && values.demo) throw new ConfigurationError('--demo cannot be used with a live key.');

  if (command === 'serve') {
    if (values.staff) throw new ConfigurationError('--staff is for stdio; over HTTP, STAFF_KEYS decide who is staff.');
    const { serveHttp } = await import('./http/serve-command.js');
    await startToolAvailability(runtime, tools, settings);
    await serveHttp({ settings, runtime, verifier, tools, log, demo: values.demo });
    return;
  }

  // A desktop client waits for tools/list on every launch: start from the last launch's probe.
  const mode = values.staff ? 'staff' : 'customer';
  const lastProbe = new LastProbeFile(join(probeCacheDir(), probeFileName(settings, mode, tools.map((tool) => tool.name))));
  // The probe (TLS, DNS, Stripe's answers) starts once the first tools/list is answered, or after
  // PROBE_AFTER_START_MS when a client never lists: till then the kept probe decides the list.
  let firstList = () => {};
  const listed = new Promise<void>((resolve) => (firstList = resolve));
  setTimeout(firstList, PROBE_AFTER_START_MS).unref();
  // The Stripe SDK too (the first call needs it), but not before that list either; a failed load is the first call's error.
  void listed.then(() => loadStripeSdk()).catch(() => undefined);
  await startToolAvailability(runtime, tools, settings, lastProbe, listed);
  const conversation = stdioConversationKey();
  // Action requests (only with the trail, where they live): expire the unconfirmed, resume the quiet.
  runtime.actions?.start();
  // The client closing stdin (or stopping the process) ends it: write the trail's last records first.
  if (audit) {
    const finish = () =>
      void (runtime.actions?.close() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => audit.close())
        .finally(() => void flushLogs().catch(() => undefined).then(() => process.exit(0)));
    process.stdin.once('end', finish);
    process.once('SIGTERM', finish);
    process.once('SIGINT', finish);
  }
  await serveStdio({
    tools,
    runtime,
    mode: values.staff ? 'staff' : 'customer',
    resolvePrincipal: stdioPrincipalResolver({ staff: values.staff, customerToken: settings.CUSTOMER_TOKEN, verifier, grants: runtime.verification?.grants, log }, conversation),
    conversation,
    onFirstList: () => firstList(),
  });
  log.info({ mode: values.staff ? 'staff' : 'customer', key: runtime.key.redacted }, 'stripe-billing-mcp serving over stdio');
}

/** The trail for stdio or serve; a missing SQLite driver is a start-up error naming the fixes. */
async function startAuditTrail(settings: Settings, demo: boolean, log: Logger): Promise<AuditTrail> {
  const { createAuditTrail } = await import('./audit/create-audit-trail.js');
  const { AuditDriverMissingError } = await import('./audit/audit-store.js');
  if (settings.STORE_URL && !settings.DATABASE_URL) {
    log.warn('STORE_URL is set (several processes) but DATABASE_URL is not: each process keeps its own audit trail file. Set DATABASE_URL=postgres://… so every process writes one trail.');
  }
  try {
    const trail = await createAuditTrail(settings, { demo, log });
    log.info({ audit: trail.store.backend, location: trail.store.location, required: trail.required }, 'audit trail on');
    return trail;
  } catch (error) {
    if (error instanceof AuditDriverMissingError) throw new ConfigurationError(error.message);
    throw error;
  }
}

function toolSelection(settings: Settings) {
  return { allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS };
}

async function runDoctorCommand(options: { settings: Settings; runtime: ToolRuntime; tools: AnyToolDefinition[]; json: boolean; demo: boolean }): Promise<number> {
  const { runDoctor } = await import('./doctor/run-doctor.js');
  const report = await runDoctor(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { renderDoctorReport } = await import('./doctor/render-report.js');
    process.stdout.write(renderDoctorReport(report));
  }
  return report.ok ? 0 : 1;
}

