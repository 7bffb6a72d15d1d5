/** Runs doctor against the fake Stripe (the caller's useFakeStripe) with the test settings plus `env`, closing the store after. */
import { runDoctor, type DoctorReport } from '../../src/doctor/run-doctor.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime } from '../../src/runtime.js';
import { selectTools } from '../../src/tools/registry.js';
import { testMailer, testSettings } from './mcp-harness.js';

export async function doctor(env: Record<string, string> = {}): Promise<DoctorReport> {
  const settings = testSettings(env);
  const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, mailer: testMailer() });
  try {
    return await runDoctor({ settings, runtime, tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }) });
  } finally {
    await runtime.store.close();
  }
}
