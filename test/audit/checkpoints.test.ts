/** How often the trail's head is checkpointed: every 1,000 records, every minute it moved, and at stop. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { Checkpointer, type Checkpoint } from '../../src/audit/checkpoints.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { silentLogger } from '../../src/log.js';
import { openTestStore, sampleEntry, TEST_AUDIT_KEYS, tempDirAfterAll } from '../support/audit.js';

const tempDir = tempDirAfterAll('sbm-checkpoints-');

/** A logger that keeps the checkpoints it is given. */
function checkpointLog(): { log: ReturnType<typeof silentLogger>; logged: Checkpoint[] } {
  const logged: Checkpoint[] = [];
  const log = silentLogger();
  log.info = ((object: { checkpoint?: Checkpoint }) => {
    if (object.checkpoint) logged.push(object.checkpoint);
  }) as typeof log.info;
  return { log, logged };
}

const fileLines = (file: string): Checkpoint[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Checkpoint);

afterEach(() => {
  vi.useRealTimers();
});

describe('checkpoints', () => {
  it('a running trail writes one every 1,000 records and one at stop, to the log and the anchor file, each matching the chain', async () => {
    const dir = tempDir();
    const anchorFile = join(dir, 'anchors.jsonl');
    const store = await openTestStore('sqlite', { dir });
    const { log, logged } = checkpointLog();
    const trail = new AuditTrail({ store, log, bufferLimit: 10_000, required: false, flushDelayMs: 1, checkpoints: new Checkpointer({ log, anchorFile }) });
    await trail.start();
    for (let i = 0; i < 2_500; i++) trail.record(sampleEntry({ email: `p${i}@example.com` }));
    await trail.flush();
    expect(fileLines(anchorFile).map((line) => line.seq)).toEqual([1_000, 2_000]);
    await trail.close();
    const lines = fileLines(anchorFile);
    expect(lines.map((line) => line.seq)).toEqual([1_000, 2_000, 2_500]);
    expect(logged).toEqual(lines);

    const reopened = new SqliteAuditStore(store.location, TEST_AUDIT_KEYS);
    try {
      // The file is what `audit verify --anchors` reads: every line names the record as it is.
      expect(await verifyChain(reopened, { checkpoints: lines })).toMatchObject({ ok: true, records: 2_500, checkpoints: { checked: 3, purged: 0 } });
    } finally {
      await reopened.close();
    }
  });

  it('writes one every minute while the head moves, none while it stands still', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const anchorFile = join(tempDir(), 'anchors.jsonl');
    const { log, logged } = checkpointLog();
    const checkpoints = new Checkpointer({ log, anchorFile });
    checkpoints.written({ seq: 5, hash: 'a'.repeat(64) });
    expect(logged).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(logged.map((line) => line.seq)).toEqual([5]);
    vi.advanceTimersByTime(180_000);
    expect(logged.map((line) => line.seq)).toEqual([5]);
    checkpoints.written({ seq: 7, hash: 'b'.repeat(64) });
    vi.advanceTimersByTime(60_000);
    expect(logged).toMatchObject([{ seq: 5 }, { seq: 7, hash: 'b'.repeat(64), at: new Date().toISOString() }]);
    checkpoints.close();
    expect(fileLines(anchorFile)).toEqual(logged);
  });

  it('an anchor file it cannot write does not stop the trail: the checkpoint is in the log, and a warning says so', () => {
    const { log, logged } = checkpointLog();
    const warnings: string[] = [];
    log.warn = ((_object: unknown, message: string) => void warnings.push(message)) as typeof log.warn;
    const checkpoints = new Checkpointer({ log, anchorFile: join(tempDir(), 'no-such-folder', 'anchors.jsonl'), everyRecords: 1 });
    checkpoints.written({ seq: 1, hash: 'c'.repeat(64) });
    checkpoints.close();
    expect(logged.map((line) => line.seq)).toEqual([1]);
    expect(warnings).toEqual(['audit trail: cannot append the checkpoint to AUDIT_ANCHOR_FILE (it is in the log)']);
  });
});
