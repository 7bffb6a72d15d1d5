/**
 * Checkpoints: the chain's head (seq, link, time) written outside the database, to the log and,
 * with AUDIT_ANCHOR_FILE, appended to that file. Someone who rewrites the trail and re-links it
 * (or deletes its newest records) cannot change what was written there: `audit verify --anchors`
 * checks every checkpointed record against it, even when the record count is unchanged.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ChainHead } from './chain.js';

export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
}

const CHECKPOINT_EVERY_RECORDS = 1_000;
const CHECKPOINT_EVERY_MS = 60_000;

export interface CheckpointOptions {
  log: Logger;
  /** AUDIT_ANCHOR_FILE: where checkpoints are appended, one JSON line each. */
  anchorFile?: string | undefined;
  everyRecords?: number;
  everyMs?: number;
}

/** Writes a checkpoint once the head has moved `everyRecords` records, and every `everyMs` it moved at all. */
export class Checkpointer {
  private head: ChainHead | undefined;
  private last: ChainHead | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly everyRecords: number;

  constructor(private readonly options: CheckpointOptions) {
    this.everyRecords = options.everyRecords ?? CHECKPOINT_EVERY_RECORDS;
    this.timer = setInterval(() => this.writeIfMoved(), options.everyMs ?? CHECKPOINT_EVERY_MS);
    // Never keeps a finished process alive; close() writes the last one.
    this.timer.unref();
  }

  /** The head a write left (with other processes' records, on a shared database). */
  written(head: ChainHead): void {
    if (this.head && head.seq <= this.head.seq) return;
    this.head = head;
    if (head.seq - (this.last?.seq ?? 0) >= this.everyRecords) this.writeIfMoved();
  }

  /** Stops the clock and writes the head if it moved since the last checkpoint. */
  close(): void {
    clearInterval(this.timer);
    this.writeIfMoved();
  }

  private writeIfMoved(): void {
    const head = this.head;
    if (!head || head.seq === this.last?.seq) return;
    this.last = head;
    const checkpoint: Checkpoint = { seq: head.seq, hash: head.hash, at: new Date().toISOString() };
    this.options.log.info({ checkpoint }, 'audit trail: checkpoint');
    if (!this.options.anchorFile) return;
    try {
      // One short line in one write: lines from several processes never interleave.
      appendFileSync(this.options.anchorFile, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
    } catch (error) {
      this.options.log.warn({ err_code: (error as { code?: string }).code, file: this.options.anchorFile }, 'audit trail: cannot append the checkpoint to AUDIT_ANCHOR_FILE (it is in the log)');
    }
  }
}

const checkpointLine = z.object({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().min(1),
});

/** The checkpoints in an anchor file; a line that is not one is a mistake to fix, not to skip. */
export function readCheckpoints(file: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`--anchors: cannot read ${file} (${(error as { code?: string }).code ?? 'error'}).`);
  }
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const checkpoint = checkpointLine.safeParse(parsed);
    if (!checkpoint.success) throw new ConfigurationError(`--anchors: line ${index + 1} of ${file} is not a checkpoint ({"seq":…,"hash":…,"at":…}).`);
    return [checkpoint.data];
  });
}
