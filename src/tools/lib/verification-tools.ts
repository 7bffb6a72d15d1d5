import { ToolError } from '../../errors.js';
import type { Verification } from '../../verify/verification.js';
import type { ToolContext } from './context.js';

/** The verification set-up and conversation a code tool needs, or a clear reason why not. */
export function verificationFor(ctx: ToolContext): { verification: Verification; conversation: string } {
  if (ctx.principal.kind === 'staff') throw new ToolError('input', 'Staff do not verify; choose the customer with email or customer_id.');
  if (!ctx.verification) {
    throw new ToolError('configuration', 'Email verification is not set up on this server. The customer should sign in to their account on the website instead.');
  }
  if (!ctx.conversation) {
    throw new ToolError('configuration', 'Email verification needs a conversation id from the chat host (the X-Conversation-Id header). The host must send one.');
  }
  return { verification: ctx.verification, conversation: ctx.conversation };
}
