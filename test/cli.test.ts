import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { settingsSchema } from '../src/config.js';
import { serveCallerSummary } from '../src/http/caller-summary.js';
import { CLI_PATH, cleanEnv, runCli } from './support/cli.js';

// Every setting the server reads, so that a new one cannot be left out of --help.
const SETTINGS = Object.keys(settingsSchema.shape);

describe('stripe-billing-mcp CLI', () => {
  it('--help documents the modes and every setting', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const word of ['stdio', 'serve', 'doctor', '--json', '--staff', '--demo', 'customer mode', ...SETTINGS]) expect(run.stdout).toContain(word);
  });

  it('exits non-zero naming STRIPE_API_KEY when the key is missing', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/STRIPE_API_KEY is not set/);
    expect(run.stdout).toBe('');
  });

  it.each([
    ['pk_live_fake_51H_abcdefgh_1234', /STRIPE_API_KEY is a publishable key/],
    ['rk_test_', /STRIPE_API_KEY is not a Stripe API key/],
    ['not-a-key', /STRIPE_API_KEY is not a Stripe API key/],
  ])('refuses the key %s with a message that names the setting', async (key, message) => {
    const run = await runCli([], { STRIPE_API_KEY: key });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('51H_abcdefgh');
  });

  it('names each bad setting and how to fix it', async () => {
    const run = await runCli([], { STRIPE_API_KEY: 'rk_test_fake_51H_abcdefgh_1234', PORT: 'eighty', IDENTITY_SECRET: 'short', VERIFY_MODE: 'maybe' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PORT must be a number/);
    expect(run.stderr).toMatch(/IDENTITY_SECRET must be at least 32 bytes/);
    expect(run.stderr).toMatch(/VERIFY_MODE must be `code` or `trust-email`/);
  });

  it('names a bad cache, budget or token setting and its range', async () => {
    const run = await runCli([], {
      STRIPE_API_KEY: 'rk_test_fake_51H_abcdefgh_1234',
      CACHE_TTL_SECONDS: '0',
      CALLER_STRIPE_SHARE: '150',
      STRIPE_RATE_LIMIT: 'fast',
      STRIPE_WEBHOOK_SECRET: 'sk_test_not_a_webhook_secret',
      IDENTITY_MAX_AGE: 'a week',
      PANEL_ORIGINS: 'https://billing.example.com/panel',
      PLAN_PRODUCTS: 'price_123',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CACHE_TTL_SECONDS must be a whole number of seconds from 1 to 3600/);
    expect(run.stderr).toMatch(/CALLER_STRIPE_SHARE must be a whole number of percent from 1 to 100/);
    expect(run.stderr).toMatch(/STRIPE_RATE_LIMIT must be a whole number of requests per second/);
    expect(run.stderr).toMatch(/STRIPE_WEBHOOK_SECRET must be the endpoint signing secret \(whsec_…\)/);
    expect(run.stderr).toMatch(/IDENTITY_MAX_AGE must be a duration such as 3600, 30m, 24h or 7d/);
    expect(run.stderr).toMatch(/PANEL_ORIGINS must be a comma list of origins/);
    expect(run.stderr).toMatch(/PLAN_PRODUCTS must be a comma list of product ids/);
    expect(run.stderr).not.toContain('sk_test_not_a_webhook_secret');
  });

  it('names a bad panel setting and how to fix it', async () => {
    const run = await runCli([], { STRIPE_API_KEY: 'rk_test_fake_51H_abcdefgh_1234', PANEL_FRAME_ANCESTORS: 'https://app.chatwoot.com/app,*', PANEL_SESSION_SECRET: 'short' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PANEL_FRAME_ANCESTORS must be a comma list of origins such as https:\/\/app\.chatwoot\.com/);
    expect(run.stderr).toMatch(/PANEL_SESSION_SECRET must be at least 32 bytes/);
  });

  it('refuses a CUSTOMER_TOKEN it has no way to verify', async () => {
    const run = await runCli([], { STRIPE_API_KEY: 'rk_test_fake_51H_abcdefgh_1234', CUSTOMER_TOKEN: 'eyJhbGciOiJIUzI1NiJ9.e30.x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CUSTOMER_TOKEN is set but neither IDENTITY_SECRET nor IDENTITY_JWKS_URL/);
    expect(run.stderr).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('refuses unknown tools in TOOLS and unknown commands', async () => {
    const tools = await runCli([], { STRIPE_API_KEY: 'rk_test_fake_51H_abcdefgh_1234', TOOLS: 'get_subscription_status,drop_database' });
    expect(tools.code).toBe(2);
    expect(tools.stderr).toMatch(/TOOLS names unknown tools: drop_database/);
    const command = await runCli(['launch']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/Unknown command "launch"/);
    const flag = await runCli(['--bogus']);
    expect(flag.code).toBe(2);
  });
});

describe('serve at start-up', () => {
  /** Starts `serve`, reads its log until it is listening, then stops it. */
  async function serveLog(args: string[], env: Record<string, string>): Promise<string> {
    const child = spawn(process.execPath, [CLI_PATH, 'serve', ...args], { env: cleanEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', () => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${log}`)), 15_000);
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('serving HTTP')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));
    return log;
  }

  it('says which callers are configured and how their customers are verified, not the stdio warning', async () => {
    const log = await serveLog(['--demo'], {});
    expect(log).toContain('serve: 1 host key (chatbots), customers verified by X-Customer-Token identity tokens or emailed one-time codes (X-Conversation-Id); 1 staff key (any customer, /panel)');
    expect(log).not.toContain('CUSTOMER_TOKEN');
  });

  it('warns when host keys are set but nothing can verify their customers, or when nobody can call', () => {
    const none = { identityTokens: false, emailCodes: false, trustEmail: false };
    expect(serveCallerSummary({ HOST_KEYS: ['bot:k'], STAFF_KEYS: [] }, none)).toEqual({
      level: 'warn',
      message: 'serve: 1 host key (chatbots), but no way to verify their customers: set IDENTITY_SECRET or IDENTITY_JWKS_URL for X-Customer-Token, or SMTP_URL and MAIL_FROM for email codes; until then customer tools answer "not verified"; no staff keys',
    });
    expect(serveCallerSummary({ HOST_KEYS: [], STAFF_KEYS: [] }, none).level).toBe('warn');
    expect(serveCallerSummary({ HOST_KEYS: ['bot:k'], STAFF_KEYS: [] }, { ...none, trustEmail: true })).toMatchObject({ level: 'warn', message: expect.stringMatching(/UNVERIFIED email matching/) });
    expect(serveCallerSummary({ HOST_KEYS: [], STAFF_KEYS: ['support:k'] }, none)).toEqual({ level: 'info', message: 'serve: no host keys (chatbots); 1 staff key (any customer, /panel)' });
  });
});
