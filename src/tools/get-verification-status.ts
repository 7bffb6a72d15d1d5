import { z } from 'zod';
import { defineTool } from './lib/define-tool.js';
import { isoDateSchema } from './lib/schemas.js';

export default defineTool({
  name: 'get_verification_status',
  title: 'Verification status',
  description: "Whether the customer in this conversation is verified, for which email, and until when. Use before asking the customer to verify again.",
  audience: 'verification',
  discloses: ['verification_status'],
  permissions: [],
  inputSchema: {},
  outputSchema: {
    verified: z.boolean(),
    email: z.string().optional(),
    method: z.enum(['identity-token', 'email-code', 'trust-email']).optional(),
    expires_at: isoDateSchema.optional(),
    message: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { principal } = ctx;
    if (principal.kind !== 'customer') {
      return { verified: false, message: 'Not verified. Ask for the email of the billing account, then call verify_email_start.' };
    }
    // The grant's expiry, when the principal came from one (tokens carry their own exp).
    const grant = principal.verifiedBy !== 'identity-token' && ctx.conversation ? await ctx.verification?.grants.use(ctx.conversation) : undefined;
    return {
      verified: principal.verifiedBy !== 'trust-email',
      email: principal.email,
      method: principal.verifiedBy,
      ...(grant ? { expires_at: grant.expiresAt } : {}),
      message:
        principal.verifiedBy === 'trust-email'
          ? `Matched to ${principal.email} by the email typed, NOT verified (trust-email mode).`
          : `Verified as ${principal.email}${principal.verifiedBy === 'identity-token' ? ' by the website sign-in' : ' by an emailed code'}.`,
    };
  },
  summarize(output) {
    return output.message;
  },
});
