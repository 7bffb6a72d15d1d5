import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { isPlausibleEmail } from '../verify/principal.js';
import { defineTool } from './lib/define-tool.js';
import { boundedString } from './lib/schemas.js';
import { verificationFor } from './lib/verification-tools.js';

export default defineTool({
  name: 'verify_email_start',
  title: 'Send a verification code',
  description:
    "Step 1 of verifying the customer: emails a 6-digit code to the address the customer gives. Use when billing tools say the customer is not verified. The answer is the same whether or not the address has an account; never guess or reuse an address.",
  audience: 'verification',
  discloses: [],
  writes: 'verification_code_sent',
  permissions: ['rak_customer_read'],
  sendsMail: true,
  inputSchema: {
    email: boundedString({ max: 320 }).describe('The email address the customer says their billing account uses.'),
  },
  outputSchema: {
    status: z.enum(['code_sent', 'accepted_unverified']),
    expires_in_minutes: z.number().optional(),
    message: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    const { verification, conversation } = verificationFor(ctx);
    if (verification.mode === 'trust-email') {
      // The same check as code mode: an empty or odd string must not become the conversation's identity.
      if (!isPlausibleEmail(input.email)) throw new UserInputError('That does not look like an email address. Ask the customer to check it (for example name@example.com).');
      await verification.grants.grant(conversation, input.email, 'trust-email');
      return {
        status: 'accepted_unverified' as const,
        message: 'Email accepted WITHOUT verification (trust-email mode): billing tools now answer for this address, and say so in every result.',
      };
    }
    const started = await verification.codes.start(conversation, input.email, ctx.reads.work);
    return { status: 'code_sent' as const, expires_in_minutes: started.expiresInMinutes, message: started.message };
  },
  summarize(output) {
    return output.message;
  },
});
