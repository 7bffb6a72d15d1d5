import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { DEMO_STAFF_KEY } from '../../src/demo/demo-identity.js';
import { CLI_PATH, cleanEnv } from '../support/cli.js';
import { panelSignIn } from '../support/panel.js';

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

/** `npm run demo` is `serve --demo`: it must print the panel URL, and the panel must answer there. */
it('serve --demo prints the panel URL, and the demo staff key signs in there', async () => {
  child = spawn(process.execPath, [CLI_PATH, 'serve', '--demo'], { env: cleanEnv({ PORT: '0', LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const banner = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Press Ctrl-C')) resolve(stdout);
    });
    child!.once('exit', (code) => reject(new Error(`demo exited with ${code}`)));
  });
  const panelUrl = /Insight panel:\s+(http:\/\/127\.0\.0\.1:\d+\/panel)\s/.exec(banner)?.[1];
  expect(panelUrl).toBeDefined();
  const base = panelUrl!.replace(/\/panel$/, '');
  const cookie = await panelSignIn(base, DEMO_STAFF_KEY);
  const card = await fetch(`${base}/panel/card?email=carol@example.com`, { headers: { cookie } });
  expect(card.status).toBe(200);
  expect(await card.text()).toContain('Carol Danvers');
});
