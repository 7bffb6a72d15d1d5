import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import type { IdentityTokenVerifier } from '../verify/identity-token.js';
import { serveCallerSummary } from './caller-summary.js';
import { boundHeapGrowth } from './heap-growth.js';
import { startHttpServer } from './serve.js';
import { installSignalHandlers } from './shutdown.js';

/** `stripe-billing-mcp serve`: the HTTP server until SIGTERM/SIGINT, then a graceful stop. */
export async function serveHttp(options: {
  settings: Settings;
  runtime: ToolRuntime;
  verifier: IdentityTokenVerifier | undefined;
  tools: readonly AnyToolDefinition[];
  log: Logger;
  demo: boolean;
}): Promise<void> {
  const { settings, log } = options;
  // A server under steady load would otherwise let garbage grow RSS for minutes (docs/operations.md).
  boundHeapGrowth();
  const verification = options.runtime.verification;
  const callers = serveCallerSummary(settings, {
    identityTokens: options.verifier !== undefined,
    emailCodes: verification?.mode === 'code',
    trustEmail: verification?.mode === 'trust-email',
  });
  log[callers.level](callers.message);
  const running = await startHttpServer(options);
  log.info({ url: running.url, key: options.runtime.key.redacted }, 'stripe-billing-mcp serving HTTP');
  if (options.demo) {
    const { printDemoBanner } = await import('../demo/banner.js');
    await printDemoBanner(running.url, options.runtime, settings);
  }
  installSignalHandlers(() => running.close());
}
