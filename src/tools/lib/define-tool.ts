import type { z } from 'zod';
import type { RequestKind } from '../../actions/requests.js';
import type { CardView } from '../../apps/billing-card.js';
import type { AuditWrite, DataCategory } from '../../audit/record.js';
import type { ToolContext } from './context.js';

/** MCP tool annotations (hints for clients; never a security boundary). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * `customer`: answers about one customer, chosen by the server (customer mode) or by staff
 * arguments (staff mode). `account`: about the merchant's catalogue; a known customer only
 * personalises the answer. `verification`: the email-code tools, listed in customer mode only.
 */
export type ToolAudience = 'customer' | 'account' | 'verification';

export interface ToolDefinition<Input extends z.ZodRawShape = z.ZodRawShape, Output extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  /** When to use it and what it will not do, in a few lines: the model reads this on every turn. */
  description: string;
  audience: ToolAudience;
  /** Changes something on the Stripe account; off until WRITE_TOOLS enables it. */
  write?: boolean;
  /**
   * An action of the actions engine (request_refund…): listed only when the merchant's policy
   * turns that action on (ACTIONS_POLICY), never through WRITE_TOOLS; every change it proposes
   * waits for the person's confirmation (src/actions/engine.ts). `any`: listed when the policy
   * turns any action on (get_request_status).
   */
  action?: RequestKind | 'any';
  /**
   * Hosts with MCP Apps support render this result as the billing card's view (src/apps); the
   * text and structured result stay the same for every other client.
   */
  card?: CardView;
  /**
   * `app`: only the billing card calls it (its buttons), through the host; listed only to clients
   * that declare the Apps extension, and hosts never show it to the model (APP_TOOLS, src/tools/registry.ts).
   */
  visibility?: 'app';
  /** The restricted-key permissions it cannot answer without (rak_…): without one it is not listed. */
  permissions: readonly string[];
  /**
   * Permissions that only add a section, each with what is left out without it ("discounts"):
   * the tool stays listed and answers with a notice naming the permission (see optional-sections).
   */
  optionalPermissions?: Readonly<Record<string, string>>;
  /**
   * Needs a saved billing-portal configuration (`session`), with its cancel feature on
   * (`cancel`): without one Stripe refuses every link, so the tool is not listed.
   */
  portal?: 'session' | 'cancel';
  /** Keeps state in the shared store (STORE_URL); every verification tool does too. */
  usesStore?: boolean;
  /** Sends mail through SMTP_URL. */
  sendsMail?: boolean;
  /** What a successful call shows, as the audit trail records it (data categories, never values). */
  discloses: readonly DataCategory[];
  /** What a successful call changes or sends, for the audit trail. */
  writes?: AuditWrite;
  /**
   * Listed as it is to strict function calling (OpenAI, Anthropic): optional arguments through
   * optionalInput/defaultedInput, bounds and patterns through boundedString/boundedInteger/matching
   * (schemas.ts), never .optional(), .max() or .regex() directly.
   */
  inputSchema: Input;
  outputSchema: Output;
  annotations: ToolAnnotations;
  handler(input: z.output<z.ZodObject<Input>>, ctx: ToolContext): Promise<z.input<z.ZodObject<Output>>>;
  /**
   * The answer the model reads (the text content over MCP, `text` over /v1/tools): the JSON is not
   * beside it, so it names every fact a question needs (ids the next call takes, formatted
   * amounts, dates, one link per record), a line per record, with account text `quoted`.
   */
  summarize(output: z.output<z.ZodObject<Output>>): string;
}

/** Identity function whose only job is type inference (the sentry-mcp pattern). */
export function defineTool<Input extends z.ZodRawShape, Output extends z.ZodRawShape>(
  definition: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return definition;
}

// The registry holds tools of different shapes; variance makes a precise common type useless.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;
