import { z } from 'zod';
import { ToolError } from '../errors.js';
import { defineTool } from './lib/define-tool.js';
import { boundedString, isoDateSchema } from './lib/schemas.js';
import { verificationFor } from './lib/verification-tools.js';

export default defineTool({
  name: 'verify_email_confirm',
  title: 'Confirm the verification code',
  description:
    'Step 2 of verifying the customer: checks the 6-digit code the customer read from their email. On success, billing tools answer for that email in this conversation. Never invent or guess a code.',
  audience: 'verification',
  discloses: ['verification_status'],
  writes: 'email_verified',
  permissions: [],
  inputSchema: {
    code: boundedString({ max: 20 }).describe('The 6-digit code exactly as the customer typed it.'),
  },
  outputSchema: {
    verified: z.boolean(),
    email: z.string(),
    expires_at: isoDateSchema,
    message: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const { verification, conversation } = verificationFor(ctx);
    if (verification.mode !== 'code') throw new ToolError('input', 'This server does not use verification codes.');
    const grant = await verification.codes.confirm(conversation, input.code);
    return {
      verified: true,
      email: grant.email,
      expires_at: grant.expiresAt,
      message: `Verified. Billing tools now answer for ${grant.email} in this conversation.`,
    };
  },
  summarize(output) {
    return output.message;
  },
});
