import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/**
 * What a newcomer meets on the command line: a mistyped flag or a setting given as a flag gets
 * our words (which flag, what to do, where the help is), never Node's parser text, and every
 * command has its own help.
 */
const NODE_PARSER_TEXT = /To specify a positional argument|ERR_PARSE_ARGS|argument missing|Unknown option '/;

describe('flags the CLI does not take', () => {
  it('an unknown flag is named, with the help of its command', async () => {
    const run = await runCli(['serve', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown option --bogus. Run stripe-billing-mcp serve --help');
    expect(run.stderr).not.toMatch(NODE_PARSER_TEXT);
    expect(run.stdout).toBe('');
  });

  it.each([
    [['serve', '--port', '9999'], 'PORT=9999 stripe-billing-mcp serve'],
    [['serve', '--demo', '--port=9999'], 'PORT=9999 stripe-billing-mcp serve --demo'],
    [['serve', '--host', '0.0.0.0', '--demo'], 'HOST=0.0.0.0 stripe-billing-mcp serve --demo'],
    [['--log-level', 'debug', '--staff'], 'LOG_LEVEL=debug stripe-billing-mcp --staff'],
    [['doctor', '--tools', 'get_subscription_status'], 'TOOLS=get_subscription_status stripe-billing-mcp doctor'],
  ])('%j says to set the environment variable instead', async (args, example) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not a flag');
    expect(run.stderr).toContain(`Use: ${example}.`);
    expect(run.stderr).not.toMatch(NODE_PARSER_TEXT);
  });

  it('a secret given as a flag is not repeated back', async () => {
    const key = 'rk_live_fake_pasted_on_the_command_line_1234';
    const run = await runCli(['--stripe-api-key', key, '--staff']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Use: STRIPE_API_KEY=… stripe-billing-mcp --staff.');
    expect(run.stderr).toContain('shell history');
    expect(run.stderr).not.toContain('pasted_on_the_command_line');
    const inline = await runCli(['serve', `--stripe-api-key=${key}`]);
    expect(inline.stderr).toContain('STRIPE_API_KEY=…');
    expect(inline.stderr).not.toContain('pasted_on_the_command_line');
  });

  it('a flag without its value, or a switch given one, says so', async () => {
    const missing = await runCli(['audit', '--email']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--email needs a value, e.g. --email ana@example.com');
    const valued = await runCli(['serve', '--demo=yes']);
    expect(valued.code).toBe(2);
    expect(valued.stderr).toContain('--demo takes no value');
    for (const run of [missing, valued]) expect(run.stderr).not.toMatch(NODE_PARSER_TEXT);
  });

  it('an audit flag elsewhere points at the audit command', async () => {
    const run = await runCli(['serve', '--email', 'ana@example.com']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--email is for the audit command. Run stripe-billing-mcp audit --help.');
  });
});

describe('help', () => {
  it('`help` prints the general help, as --help does', async () => {
    const [help, flag] = await Promise.all([runCli(['help']), runCli(['--help'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(flag.stdout);
    expect(help.stdout).toContain('Settings (environment variables):');
  });

  it.each(['serve', 'doctor', 'audit', 'tenants', 'stdio'])('`help <command>`, `<command> --help` and `<command> -h` print that command\'s help: %s', async (command) => {
    const runs = await Promise.all([runCli(['help', command]), runCli([command, '--help']), runCli([command, '-h'])]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(runs[0]!.stdout);
    }
    const usage = command === 'stdio' ? 'Usage: stripe-billing-mcp [stdio]' : `Usage: stripe-billing-mcp ${command}`;
    expect(runs[0]!.stdout).toContain(usage);
    // A command's help, not the general one.
    expect(runs[0]!.stdout).not.toContain('Settings (environment variables):');
  });

  it('serve --help names PORT and HOST as environment variables; serve --platform --help is the platform\'s', async () => {
    const [serve, platform] = await Promise.all([runCli(['serve', '--help']), runCli(['serve', '--platform', '--help'])]);
    expect(serve.stdout).toContain('PORT=9999 stripe-billing-mcp serve --demo');
    expect(platform.stdout).toContain('Usage: stripe-billing-mcp serve --platform');
    expect(platform.stdout).toContain('stripe_api_key');
  });

  it('audit --help documents --demo', async () => {
    const run = await runCli(['audit', '--help']);
    expect(run.stdout).toMatch(/--demo +The trail of serve --demo \(npm run demo\)/);
  });

  it('help wins over a mistake on the same line, and an unknown topic is named', async () => {
    const help = await runCli(['serve', '--port', '1', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: stripe-billing-mcp serve');
    const unknown = await runCli(['help', 'launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No help for "launch"');
  });
});
