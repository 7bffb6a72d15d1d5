/**
 * The command line's own checks, made before Node's parser sees the arguments, so that a
 * mistake gets our words rather than the parser's: an unknown flag is named with the help to
 * read, and a flag that mirrors a setting (`serve --port 9999`) says which environment
 * variable to set instead. Settings are never flags: secrets stay out of shell history and `ps`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigurationError } from './errors.js';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Flags people reach for that name a setting by another name. */
const ALIASES: Record<string, string> = { key: 'STRIPE_API_KEY', 'api-key': 'STRIPE_API_KEY', 'stripe-key': 'STRIPE_API_KEY', 'log-level': 'LOG_LEVEL', verbose: 'LOG_LEVEL', debug: 'LOG_LEVEL' };

/** Read from the environment by the tenants command, not part of the server's settings. */
const COMMAND_SETTINGS = ['TENANT_STRIPE_API_KEY', 'TENANT_WEBHOOK_SECRET'];

/** A value of these is a secret (or may hold one, as a URL's password): never repeated back. */
const SECRET_SETTING = /KEY|SECRET|TOKEN|URL|PASSWORD/;

/** Flags that only the audit command takes (the other commands refuse them). */
const AUDIT_FLAGS = new Set(['email', 'customer', 'since', 'host', 'conversation', 'limit', 'jsonl', 'tenant', 'anchors']);

const COMMANDS = ['stdio', 'serve', 'doctor', 'audit', 'tenants', 'policy', 'help'];

function helpCommand(command: string | undefined): string {
  return command && COMMANDS.includes(command) && command !== 'help' ? `stripe-billing-mcp ${command} --help` : 'stripe-billing-mcp --help';
}

/** The setting a flag stands for (`--port` → PORT), if the server has one by that name. */
async function settingOf(name: string): Promise<string | undefined> {
  if (ALIASES[name]) return ALIASES[name];
  const candidate = name.replace(/-/g, '_').toUpperCase();
  // Only on this error path: the schema's module is not loaded for a command line that parses.
  const { settingsSchema } = await import('./config.js');
  return candidate in settingsSchema.shape || COMMAND_SETTINGS.includes(candidate) ? candidate : undefined;
}

/** A shell word as typed: bare when safe, else single-quoted. */
const shellWord = (value: string) => (/^[\w.:/@,=+-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`);

/** `--port 9999` → "use PORT=9999 stripe-billing-mcp serve …": the same command line, the flag moved to the environment. */
function mirroredSettingError(flag: string, setting: string, value: string | undefined, rest: readonly string[]): ConfigurationError {
  const secret = SECRET_SETTING.test(setting);
  const shown = value === undefined || secret ? '…' : shellWord(value);
  const example = [`${setting}=${shown}`, 'stripe-billing-mcp', ...rest.map(shellWord)].join(' ');
  const why = secret ? ' (a secret on the command line would stay in shell history and show in `ps`)' : '';
  const command = rest.find((word) => COMMANDS.includes(word));
  return new ConfigurationError(`${flag} is not a flag: ${setting} is a setting, read from the environment${why}. Use: ${example}. Run ${helpCommand(command)} for the options.`);
}

/**
 * Throws a ConfigurationError for the first flag that is unknown, mirrors a setting, lacks its
 * value or takes none. Silent when the command line is fine: Node's parser then runs as before.
 */
export async function checkFlags(argv: readonly string[], options: FlagOptions): Promise<void> {
  const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const positionals = tokens.filter((token) => token.kind === 'positional');
  const command = positionals[0]?.value;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = options[token.name];
    // --host names a host key to audit; anywhere else it is taken for the HOST setting.
    if (!known || (token.name === 'host' && command !== 'audit')) {
      const setting = await settingOf(token.name);
      if (!setting) throw new ConfigurationError(`Unknown option ${token.rawName}. Run ${helpCommand(command)} for its options.`);
      // `--port 9999`: the parser took 9999 for a positional (and so, perhaps, for the command).
      const next = token.value === undefined ? positionals.find((candidate) => candidate.index === token.index + 1 && !COMMANDS.includes(candidate.value)) : undefined;
      const value = token.value ?? next?.value ?? (setting === 'LOG_LEVEL' ? 'debug' : undefined);
      const valueIndex = next?.index ?? (token.value !== undefined && !token.inlineValue ? token.index + 1 : undefined);
      const rest = argv.filter((_, index) => index !== token.index && index !== valueIndex);
      throw mirroredSettingError(token.rawName, setting, value, rest);
    }
    if (known.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))) {
      throw new ConfigurationError(`${token.rawName} needs a value, e.g. ${token.rawName} ${token.name === 'email' ? 'ana@example.com' : '…'}. Run ${helpCommand(command)}.`);
    }
    if (known.type === 'boolean' && token.value !== undefined) {
      throw new ConfigurationError(`${token.rawName} takes no value. Run ${helpCommand(command)}.`);
    }
    if (command !== 'audit' && AUDIT_FLAGS.has(token.name)) {
      throw new ConfigurationError(`${token.rawName} is for the audit command. Run stripe-billing-mcp audit --help.`);
    }
  }
}
