import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/stripe-sdk.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // In-process doctors and servers keep their audit files here, never in the user's data folder.
    env: { XDG_DATA_HOME: join(tmpdir(), 'sbm-test-data') },
  },
});
