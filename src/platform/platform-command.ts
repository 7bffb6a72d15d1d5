import { loadSettings } from '../config.js';
import { boundHeapGrowth } from '../http/heap-growth.js';
import { installSignalHandlers } from '../http/shutdown.js';
import { createLogger } from '../log.js';
import { startPlatform } from './serve-platform.js';

/** `serve --platform` until SIGTERM/SIGINT, then a graceful stop. */
export async function runPlatformCommand(): Promise<void> {
  const settings = loadSettings(process.env);
  const log = createLogger({ level: settings.LOG_LEVEL });
  boundHeapGrowth();
  const running = await startPlatform({ settings, log });
  installSignalHandlers(() => running.close());
}
