import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, flushLogs } from '../src/log.js';

/** A logger writing to a file of its own, and the JSON lines it wrote once everything is flushed. */
function fileLogger(level: string) {
  const path = join(mkdtempSync(join(tmpdir(), 'sbm-log-')), 'log.jsonl');
  const fd = openSync(path, 'w');
  const log = createLogger({ level, destination: fd });
  return {
    log,
    async lines(): Promise<Array<Record<string, unknown>>> {
      await flushLogs();
      closeSync(fd);
      return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe('logs (pino, loaded with the first line)', () => {
  it('writes the lines logged while pino loads, in order, at the time each was logged, with their bindings and redaction', async () => {
    const { log, lines } = fileLogger('info');
    // The clock moves on while pino loads: the waiting lines must keep the time they were logged.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    log.warn({ apiKey: 'rk_test_secret_value' }, 'first');
    log.child({ component: 'actions' }).info({ email: 'alice@example.com', tool: 'get_billing_info' }, 'second');
    log.debug('below the level');
    vi.setSystemTime(5_000_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.error('after pino loaded');
    const written = await lines();
    vi.useRealTimers();
    expect(written.map((line) => line.msg)).toEqual(['first', 'second', 'after pino loaded']);
    expect(written[0]).toMatchObject({ level: 'warn', service: 'stripe-billing-mcp', apiKey: '[redacted]' });
    expect(written[1]).toMatchObject({ level: 'info', component: 'actions', email: '[redacted]', tool: 'get_billing_info' });
    // The waiting lines keep the moment they were logged; the line logged after pino loaded, its own.
    expect(written.map((line) => line.time)).toEqual([1_000_000, 1_000_000, 5_000_000]);
    expect(JSON.stringify(written)).not.toContain('rk_test_secret_value');
  });

  it('writes nothing at LOG_LEVEL=silent, and says which levels it would write', async () => {
    const { log, lines } = fileLogger('silent');
    log.error('never');
    expect(log.isLevelEnabled('error')).toBe(false);
    expect(await lines()).toEqual([]);
    const warnings = fileLogger('warn');
    expect([warnings.log.isLevelEnabled('info'), warnings.log.isLevelEnabled('warn')]).toEqual([false, true]);
    await warnings.lines();
  });
});
