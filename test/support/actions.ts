/**
 * One fixture for the action tests: the real HTTP server with an actions policy, a keyed SQLite
 * trail (where requests live), the fake Stripe with the action fixtures (alice's duplicate and
 * partly refunded payments), and helpers to call tools as a verified customer or as staff.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionsPolicy } from '../../src/actions/policy.js';
import type { AuditTrail } from '../../src/audit/audit-trail.js';
import type { Logger } from '../../src/log.js';
import type { RuntimeOptions } from '../../src/runtime.js';
import { ISSUE_EXAMPLE_POLICY } from '../../src/demo/actions-policy.js';
import { FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from './http-harness.js';
import { openTestStore, tempDirAfterAll, testTrail } from './audit.js';

/** The issue's example policy: refunds to $200 (auto to $50, 14 days, 1 per 30 days), credits to $50 (none auto), pauses to 90 days (auto to 31). */
export const EXAMPLE_POLICY = ISSUE_EXAMPLE_POLICY as ActionsPolicy;

export const ALICE = DEMO.emails.alice;

export interface ActionsFixture extends HttpFixture {
  trail: AuditTrail;
  /** POST /v1/tools/{tool} as a verified customer (identity token) in one conversation. */
  asCustomer(email: string, tool: string, args?: Record<string, unknown>, conversation?: string): Promise<ToolAnswer>;
  /** POST /v1/tools/{tool} with the staff key. */
  asStaff(tool: string, args?: Record<string, unknown>, key?: string): Promise<ToolAnswer>;
}

export interface ToolAnswer {
  status: number;
  body: { is_error: boolean; result?: Record<string, unknown>; text?: string; error?: { kind: string; message: string }; confirmation?: { request_id: string; token: string; expires_at: string; url?: string } };
}

/**
 * `policy`: written to a file named by ACTIONS_POLICY (undefined: none, read-only). `env` adds
 * settings (a second staff key, APPROVAL_WEBHOOK_URL…). `smtp`: mail goes to env's SMTP_URL, not the in-memory inbox.
 * `clock`: the requests' clock (expiry, quiet executions); `execute`: Stripe retry delays and sleep.
 */
export function actionsFixtures(): (options?: { policy?: ActionsPolicy | undefined; env?: Record<string, string>; fake?: FakeStripe; log?: Logger; smtp?: boolean; clock?: () => number; execute?: RuntimeOptions['actionsExecute'] }) => Promise<ActionsFixture> {
  const tempDir = tempDirAfterAll('sbm-actions-');
  return async (options = {}) => {
    const dir = tempDir();
    const policy = 'policy' in options ? options.policy : EXAMPLE_POLICY;
    const env: Record<string, string> = { STAFF_KEYS: `support:${STAFF},lead:staff_lead_secret_00000000000000000000`, ...options.env };
    if (policy) {
      const file = join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify(policy));
      env.ACTIONS_POLICY = file;
    }
    const trail = await testTrail(await openTestStore('sqlite', { dir }));
    const fx = await startHttpFixture(env, { audit: trail, fake: options.fake ?? new FakeStripe({ now: Math.floor(Date.now() / 1000), actionFixtures: true }), ...(options.log ? { log: options.log } : {}), ...(options.smtp ? { smtp: true } : {}), ...(options.clock ? { actionsClock: options.clock } : {}), ...(options.execute ? { actionsExecute: options.execute } : {}) });
    const post = async (headers: Record<string, string>, tool: string, args: Record<string, unknown>): Promise<ToolAnswer> => {
      const response = await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(args) });
      return { status: response.status, body: (await response.json()) as ToolAnswer['body'] };
    };
    return {
      ...fx,
      trail,
      close: async () => {
        await fx.close();
        await fx.runtime.actions?.close();
        await trail.close();
      },
      asCustomer: async (email, tool, args = {}, conversation = `conv-${email.replace(/[^A-Za-z0-9._:-]/g, '-')}`) =>
        post({ authorization: `Bearer ${HOST_A}`, 'x-conversation-id': conversation, 'x-customer-token': await fx.token(email) }, tool, args),
      asStaff: (tool, args = {}, key = STAFF) => post({ authorization: `Bearer ${key}` }, tool, args),
    };
  };
}
