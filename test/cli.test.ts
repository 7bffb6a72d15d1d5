import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const SETTINGS = [
  'STRIPE_API_KEY', 'STRIPE_API_BASE', 'CUSTOMER_TOKEN', 'IDENTITY_SECRET', 'IDENTITY_JWKS_URL', 'IDENTITY_ISSUER', 'IDENTITY_AUDIENCE',
  'VERIFY_MODE', 'SMTP_URL', 'MAIL_FROM', 'MERCHANT_NAME', 'STORE_URL', 'TOOLS', 'WRITE_TOOLS', 'COUPON_ALLOWLIST', 'PORTAL_RETURN_URL',
  'PORTAL_CONFIGURATION', 'HOST', 'PORT', 'HOST_KEYS', 'STAFF_KEYS', 'ALLOWED_ORIGINS', 'STRIPE_WEBHOOK_SECRET', 'LOG_LEVEL',
  'PANEL_FRAME_ANCESTORS', 'PANEL_SESSION_SECRET', 'CACHE_URL', 'CACHE_TTL_SECONDS', 'CACHE_MAX_MB', 'STRIPE_RATE_LIMIT', 'CALLER_STRIPE_SHARE', 'HOST_CALLS_PER_MINUTE',
  'CONVERSATION_CALLS_PER_MINUTE', 'IDENTITY_MAX_AGE',
];

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
