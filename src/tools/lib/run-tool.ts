import { z } from 'zod';
import type { ConfirmationHandoff } from '../../actions/engine.js';
import { callEntry } from '../../audit/call-entry.js';
import type { AuditSurface } from '../../audit/record.js';
import { ToolError, UserInputError } from '../../errors.js';
import { mapStripeError } from '../../stripe/errors.js';
import { isPlausibleEmail, isUnprovenCustomer, normalizeEmail, type Principal } from '../../verify/principal.js';
import type { CustomerTarget, PersonQuestion, ToolRuntime } from './context.js';
import { createToolContext, staffTargetShape, type StaffTarget } from './customer-target.js';
import type { AnyToolDefinition } from './define-tool.js';
import { dropUndefined } from './drop-undefined.js';
import { inputObject } from './schemas.js';

export type ServerMode = 'customer' | 'staff';

export type ToolOutcome =
  /** `confirmation`: an action request's, for the person's channel only (never the model's). */
  /** `customerId`: the record the answer is about, when it looked one up (the billing card's grant is bound to it). */
  | { ok: true; output: Record<string, unknown>; text: string; confirmation?: ConfirmationHandoff; customerId?: string }
  | { ok: false; error: ToolError };

/** The input schema a principal's client sees: staff choose the customer; customers cannot. */
function inputShapeFor(tool: AnyToolDefinition, mode: ServerMode): z.ZodRawShape {
  return mode === 'staff' && tool.audience !== 'verification' ? { ...tool.inputSchema, ...staffTargetShape } : tool.inputSchema;
}

export const UNVERIFIED_IDENTITY_NOTICE =
  'UNVERIFIED IDENTITY: this server is in trust-email mode, so the customer was matched by the email they typed, not verified. Do not treat this as proof of who they are.';

/** Every output may carry the trust-email notice, and the sections left out, so the listed schema says so. */
function outputShapeFor(tool: AnyToolDefinition): z.ZodRawShape {
  return {
    ...tool.outputSchema,
    identity_notice: z.string().optional(),
    ...(tool.optionalPermissions ? { notices: z.array(z.string()).optional() } : {}),
  };
}

/**
 * The JSON type a listed field keeps: its own for strings, numbers, booleans and enums; only
 * `array` or `object` for lists and objects; none for anything else (a union, a nullable field).
 */
function shallowField(schema: z.ZodType): z.ZodType {
  let inner = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    const def = inner.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') {
      optional ||= def.type === 'optional';
      nullable ||= def.type === 'nullable';
      inner = def.innerType!;
    } else if (def.type === 'pipe') {
      inner = def.in!;
    } else break;
  }
  const type = nullable ? 'any' : (inner.def.type as string);
  const listed =
    type === 'string' ? z.string()
    : type === 'number' ? z.number()
    : type === 'boolean' ? z.boolean()
    : type === 'enum' ? z.enum((inner as z.ZodEnum).options as [string, ...string[]])
    : type === 'array' ? z.any().meta({ type: 'array' })
    : type === 'object' || type === 'record' ? z.any().meta({ type: 'object' })
    : z.any();
  return optional ? listed.optional() : listed;
}

/**
 * The listed output schema names each top-level field with its JSON type and whether it is always
 * there, and leaves the nested shapes open: hosts and the billing card read the structured result
 * whatever its schema, the model reads the text, and the full nested schemas were two thirds of
 * `tools/list` (every client keeps the list in context). The full shape still checks every answer
 * (runTool parses each output with the tool's own schema before anyone sees it).
 */
function listedOutputObject(tool: AnyToolDefinition): z.ZodObject {
  const shape = Object.fromEntries(Object.entries(outputShapeFor(tool)).map(([key, schema]) => [key, shallowField(schema as z.ZodType)]));
  // `undefined` members vanish from the JSON: no `$schema` line and no `additionalProperties` in every listing.
  return z.object(shape).meta({ $schema: undefined, additionalProperties: undefined });
}

// Building a zod object (and its compiled parser) costs more than parsing with it: once per tool and mode.
const compiled = new WeakMap<
  AnyToolDefinition,
  { customer?: z.ZodObject; staff?: z.ZodObject; output?: z.ZodObject; result?: z.ZodObject; args?: Partial<Record<ServerMode, z.ZodObject>> }
>();

function compiledFor(tool: AnyToolDefinition) {
  let entry = compiled.get(tool);
  if (!entry) compiled.set(tool, (entry = {}));
  return entry;
}

/** The input schema a principal's client sees, as one reusable zod object. */
export function inputSchemaFor(tool: AnyToolDefinition, mode: ServerMode): z.ZodObject {
  const entry = compiledFor(tool);
  return (entry[mode] ??= inputObject(inputShapeFor(tool, mode)));
}

/**
 * The parsers a call runs, made with `z.compile`: one generated function per schema instead of
 * zod's walk through every nested schema, the same answers (a value it cannot take goes to zod's
 * own parser, so the issues and messages are zod's), several times faster on the warm path.
 */
function argsParserFor(tool: AnyToolDefinition, mode: ServerMode): z.ZodObject {
  const args = (compiledFor(tool).args ??= {});
  return (args[mode] ??= z.compile(inputSchemaFor(tool, mode)));
}

function resultParserFor(tool: AnyToolDefinition): z.ZodObject {
  const entry = compiledFor(tool);
  return (entry.result ??= z.compile(z.object(tool.outputSchema)));
}

/** The listed output schema, as one reusable zod object. */
export function outputSchemaFor(tool: AnyToolDefinition): z.ZodObject {
  const entry = compiledFor(tool);
  return (entry.output ??= listedOutputObject(tool));
}

export const AUDIT_UNAVAILABLE_MESSAGE =
  'Billing answers are paused because this server cannot record what it discloses right now. Try again in a minute.';

function auditRefusal(): ToolError {
  return new ToolError('temporarily_unavailable', AUDIT_UNAVAILABLE_MESSAGE, { audit: 'unavailable' });
}

/**
 * Whose records the call was about: the target it looked up, else the customer's email, else the
 * email staff typed or a visitor asked to verify (and, once confirmed, the email verified).
 */
function auditedPerson(tool: AnyToolDefinition, principal: Principal, target: CustomerTarget | undefined, rawArgs: unknown, output: Record<string, unknown> | undefined): { email: string | null; customerIds: string[] } {
  const customerIds = target?.customers.map((customer) => customer.id) ?? [];
  if (target?.email) return { email: target.email, customerIds };
  if (principal.kind === 'customer') return { email: principal.email, customerIds };
  const named = [output?.email, (rawArgs as { email?: unknown } | undefined)?.email].find((value): value is string => typeof value === 'string' && isPlausibleEmail(value));
  if (named && (principal.kind === 'staff' || tool.audience === 'verification')) return { email: normalizeEmail(named), customerIds };
  return { email: null, customerIds };
}

function describeInputProblem(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const field = issue.path.join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  return `Invalid arguments. ${parts.join('; ')}`;
}

/**
 * Runs one tool for one principal, whatever the transport (MCP, plain JSON). Input is parsed
 * with the mode's schema, so a customer-mode call that adds `email` or `customer_id` has them
 * stripped before the handler sees anything; output is parsed with the output schema, which
 * also strips any field a handler did not declare.
 */
export async function runTool(
  tool: AnyToolDefinition,
  rawArgs: unknown,
  options: {
    runtime: ToolRuntime;
    principal: Principal;
    mode: ServerMode;
    conversation?: string | undefined;
    /** Who pays for the call's Stripe requests (`host:acme-bot`): their share of the budget. */
    caller?: string | undefined;
    /** The caller's and conversation's call limits: a refusal is returned as the outcome. */
    admit?: (() => Promise<ToolError | undefined>) | undefined;
    /** Where the call came from, for the audit trail. */
    surface: AuditSurface;
    /** MCP form elicitation, where the client declares it: the person answers, not the model. */
    askPerson?: ((question: PersonQuestion) => Promise<'confirm' | 'cancel' | undefined>) | undefined;
  },
): Promise<ToolOutcome> {
  const { runtime, principal, mode } = options;
  const audit = runtime.audit;
  let ctx: ReturnType<typeof createToolContext> | undefined;
  let auditRecorded = false;
  const entryFor = async (failure: string | undefined, output?: Record<string, unknown>) =>
    callEntry({
      surface: options.surface,
      caller: options.caller,
      conversation: options.conversation,
      principal,
      tool: tool.name,
      failure,
      disclosed: tool.discloses,
      write: tool.writes,
      tenantId: runtime.tenantId,
      ...auditedPerson(tool, principal, await ctx?.lookedUp(), rawArgs, output),
    });
  const started = performance.now();
  const unverified = isUnprovenCustomer(principal);
  // Handed to each line rather than bound in a child logger: a child serialises its bindings when
  // it is made (about 12 µs a call), also when the level writes nothing. Built without object
  // spreads, which cost microseconds each on this hot path.
  const log = runtime.log;
  const about = (fields: Record<string, unknown>): Record<string, unknown> => {
    const line: Record<string, unknown> = { tool: tool.name, principal: principal.kind };
    if (unverified) line.identity = 'UNVERIFIED (trust-email)';
    return Object.assign(line, fields);
  };
  try {
    // Fail closed: with AUDIT_REQUIRED nothing is looked up while the trail cannot be written.
    if (audit?.required && !audit.writable) throw auditRefusal();
    const refused = await options.admit?.();
    if (refused) throw refused;
    const parsed = argsParserFor(tool, mode).safeParse(rawArgs ?? {});
    if (!parsed.success) throw new UserInputError(describeInputProblem(parsed.error));
    const { email, customer_id, ...input } = parsed.data as Record<string, unknown> & StaffTarget;
    const staffTarget: StaffTarget | undefined = mode === 'staff' && principal.kind === 'staff' ? { email, customer_id } : undefined;
    const handlerInput = mode === 'staff' ? input : parsed.data;
    let confirmation: ConfirmationHandoff | undefined;
    const context = (ctx = createToolContext(runtime, principal, staffTarget, options.conversation, tool.optionalPermissions, {
      caller: options.caller,
      surface: options.surface,
      handOff: (handed) => void (confirmation = handed),
      askPerson: options.askPerson,
    }));
    const raw = await tool.handler(handlerInput, context);
    // zod's output is already a fresh copy holding only declared fields; dropping its `undefined` members makes it what every transport's JSON carries.
    const output = dropUndefined(resultParserFor(tool).parse(raw)) as Record<string, unknown>;
    if (unverified) output.identity_notice = UNVERIFIED_IDENTITY_NOTICE;
    const notices = context.sections.notices();
    if (notices.length > 0) output.notices = notices;
    if (audit?.required) {
      // The trail keeps a refused version of this record itself when it cannot commit it.
      await audit.commit(await entryFor(undefined, output)).catch(() => {
        auditRecorded = true;
        throw auditRefusal();
      });
    } else {
      audit?.record(await entryFor(undefined, output));
    }
    const ms = performance.now() - started;
    if (log.isLevelEnabled('info')) {
      const line = about({ outcome: 'ok', ms: Math.round(ms) });
      if (notices.length > 0) line.left_out = context.sections.permissionsLeftOut();
      log.info(line, 'tool call');
    }
    runtime.observe?.({ tool: tool.name, outcome: 'ok', ms });
    const lines = unverified ? [UNVERIFIED_IDENTITY_NOTICE, tool.summarize(output)] : [tool.summarize(output)];
    for (const notice of notices) lines.push(notice);
    const summary = lines.join('\n');
    const customerId = tool.card ? (await context.lookedUp())?.customers[0]?.id : undefined;
    // The model reads the data once: the summary names every fact a question needs (ids, amounts,
    // dates, links), and the JSON stays in `output` (structuredContent, /v1/tools `result`).
    const outcome: ToolOutcome & { ok: true } = { ok: true, output, text: summary };
    if (confirmation) outcome.confirmation = confirmation;
    if (customerId) outcome.customerId = customerId;
    return outcome;
  } catch (caught) {
    const error = caught instanceof ToolError ? caught : mapStripeError(caught, tool.name);
    if (audit && !auditRecorded) audit.record(await entryFor(error.logDetail?.audit === 'unavailable' ? 'audit_unavailable' : error.kind));
    const level = error.kind === 'internal' || error.kind === 'configuration' || error.kind === 'not_available' ? 'warn' : 'info';
    const ms = performance.now() - started;
    log[level](about({ outcome: error.kind, ms: Math.round(ms), detail: error.logDetail }), 'tool call failed');
    runtime.observe?.({ tool: tool.name, outcome: error.kind, ms });
    if (error.kind === 'internal' && !(caught instanceof ToolError) && !(caught as { type?: string })?.type) {
      log.error(about({ err: caught }), 'unexpected error in tool');
    }
    return { ok: false, error };
  }
}
