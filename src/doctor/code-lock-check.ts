import type { Settings } from '../config.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import { WRONG_CODES_PER_EMAIL_PER_DAY } from '../verify/email-codes.js';
import type { DoctorCheck } from './run-doctor.js';

const LIMIT = `at most ${WRONG_CODES_PER_EMAIL_PER_DAY} wrong codes per email address in 24 h, across every conversation and process; then codes for that address are refused until its 24 h end (identity tokens still work)`;

/**
 * The cap on guessing email codes, and (where one store is shared) how many addresses it locked
 * lately: a count and a time, never an address. Reads only.
 */
export async function codeLockCheck(runtime: ToolRuntime, settings: Settings): Promise<DoctorCheck | undefined> {
  const verification = runtime.verification;
  if (verification?.mode !== 'code') return undefined;
  const base = { id: 'code_guessing', title: 'Code guessing limit', affects: ['verify_email_confirm'] };
  // In memory each process counts its own locks; this one has just started.
  if (!settings.STORE_URL) return { ...base, status: 'ok', detail: `${LIMIT}; locks are counted per process in /metrics (sbm_verification_locks_total)` };
  const recent = await verification.codes.recentLocks().catch(() => 'unreachable' as const);
  if (recent === 'unreachable') return { ...base, status: 'ok', detail: `${LIMIT}; the store did not answer, so current locks are unknown` };
  if (!recent) return { ...base, status: 'ok', detail: `${LIMIT}; no address was locked in the last 24 h` };
  return {
    ...base,
    status: 'warn',
    detail: `${LIMIT}; ${recent.count} email address${recent.count === 1 ? '' : 'es'} locked since ${recent.since}`,
    fix: 'Someone may be guessing codes: look for "code verification locked" in the log; staff see the lock on the customer\'s panel page. Logged-in visitors are unaffected (identity tokens).',
  };
}
