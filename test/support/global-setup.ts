import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Tests that spawn the CLI need dist/; `npm test` builds first, a bare `vitest` builds here. */
export default function setup(): void {
  if (!existsSync('dist/cli.js')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
