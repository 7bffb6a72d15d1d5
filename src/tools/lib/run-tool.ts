import { z } from 'zod';
import { ToolError, UserInputError } from '../../errors.js';
import { mapStripeError } from '../../stripe/errors.js';
import type { Principal } from '../../verify/principal.js';
import type { ToolRuntime } from './context.js';
import { createToolContext, staffTargetShape, type StaffTarget } from './customer-target.js';
import type { AnyToolDefinition } from './define-tool.js';

export type ServerMode = 'customer' | 'staff';

export type ToolOutcome =
  | { ok: true; output: Record<string, unknown>; text: string }
  | { ok: false; error: ToolError };

/** The input schema a principal's client sees: staff choose the customer; customers cannot. */
export function inputShapeFor(tool: AnyToolDefinition, mode: ServerMode): z.ZodRawShape {
  return mode === 'staff' ? { ...tool.inputSchema, ...staffTargetShape } : tool.inputSchema;
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
  options: { runtime: ToolRuntime; principal: Principal; mode: ServerMode },
): Promise<ToolOutcome> {
  const { runtime, principal, mode } = options;
  const started = performance.now();
  const log = runtime.log.child({ tool: tool.name, principal: principal.kind });
  try {
    const parsed = z.object(inputShapeFor(tool, mode)).safeParse(rawArgs ?? {});
    if (!parsed.success) throw new UserInputError(describeInputProblem(parsed.error));
    const { email, customer_id, ...input } = parsed.data as Record<string, unknown> & StaffTarget;
    const staffTarget: StaffTarget | undefined = mode === 'staff' && principal.kind === 'staff' ? { email, customer_id } : undefined;
    const handlerInput = mode === 'staff' ? input : parsed.data;
    const ctx = createToolContext(runtime, principal, staffTarget);
    const raw = await tool.handler(handlerInput, ctx);
    // The JSON round trip drops `undefined` members, so every transport sees the same object.
    const output = JSON.parse(JSON.stringify(z.object(tool.outputSchema).parse(raw))) as Record<string, unknown>;
    log.info({ outcome: 'ok', ms: Math.round(performance.now() - started) }, 'tool call');
    return { ok: true, output, text: `${tool.summarize(output)}\n\n${JSON.stringify(output)}` };
  } catch (caught) {
    const error = caught instanceof ToolError ? caught : mapStripeError(caught, tool.name);
    const level = error.kind === 'internal' || error.kind === 'configuration' || error.kind === 'not_available' ? 'warn' : 'info';
    log[level]({ outcome: error.kind, ms: Math.round(performance.now() - started), detail: error.logDetail }, 'tool call failed');
    if (error.kind === 'internal' && !(caught instanceof ToolError) && !(caught as { type?: string })?.type) {
      log.error({ err: caught }, 'unexpected error in tool');
    }
    return { ok: false, error };
  }
}
