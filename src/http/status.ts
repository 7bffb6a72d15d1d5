import type { Settings } from '../config.js';
import { diagnose, type DoctorReport } from '../doctor/run-doctor.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';

const STATUS_CACHE_MS = 10_000;

/**
 * `GET /v1/status`: the doctor's report, made at most every 10 s (concurrent requests share
 * one run; every check runs in parallel). What it found also updates which tools are listed.
 */
export function statusReporter(deps: { settings: Settings; runtime: ToolRuntime; tools: readonly AnyToolDefinition[] }): () => Promise<DoctorReport> {
  let cached: { at: number; report: DoctorReport } | undefined;
  let running: Promise<DoctorReport> | undefined;
  return () => {
    if (cached && Date.now() - cached.at <= STATUS_CACHE_MS) return Promise.resolve(cached.report);
    running ??= diagnose(deps)
      .then(({ report, capabilities, services }) => {
        deps.runtime.availability?.record(capabilities, services);
        cached = { at: Date.now(), report };
        return report;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
