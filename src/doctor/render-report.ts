import type { CheckStatus, DoctorReport } from './run-doctor.js';

const MARK: Record<CheckStatus, string> = { ok: '✓', fail: '✗', unknown: '?', warn: '!', off: '–' };

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - [...text].length));

/** The doctor's table for a terminal: one row a check, its fix beneath, then the verdict per tool. */
export function renderDoctorReport(report: DoctorReport): string {
  const titleWidth = Math.max(...report.checks.map((check) => [...check.title].length));
  const lines = [`stripe-billing-mcp doctor — ${report.stripe.key} (${report.stripe.key_kind}, ${report.stripe.mode} mode)`, ''];
  for (const check of report.checks) {
    lines.push(`  ${MARK[check.status]}  ${pad(check.title, titleWidth)}  ${check.detail}`);
    const indent = ' '.repeat(titleWidth + 7);
    if (check.affects.length > 0) lines.push(`${indent}affects: ${check.affects.join(', ')}`);
    if (check.fix && check.status !== 'ok') lines.push(`${indent}fix: ${check.fix}`);
  }
  const working = report.tools.filter((tool) => tool.works);
  lines.push('', `Tools: ${working.length} of ${report.tools.length} enabled tools will work.`);
  for (const tool of report.tools.filter((row) => !row.works)) {
    lines.push(`  ✗  ${tool.name}: ${tool.reasons.join('; ')}`);
  }
  for (const tool of report.tools.filter((row) => row.works && row.without.length > 0)) {
    lines.push(`  !  ${tool.name}: works, without ${tool.without.join('; ')}`);
  }
  lines.push('', report.ok ? 'All set: every enabled tool will work.' : 'Not ready: fix the ✗ and ? rows above, then run doctor again.', '');
  return lines.join('\n');
}
