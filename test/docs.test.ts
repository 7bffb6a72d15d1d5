/**
 * The README and docs/ as a newcomer reads them: every relative link lands on a file and heading
 * that exist, no line runs the unpublished package through npx, the README stays short enough to
 * follow, and the settings reference names every setting the server reads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../src/config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join(ROOT, 'docs', name))];

/** The text a reader sees as prose: fenced code blocks and HTML comments removed (line count kept). */
function prose(markdown: string): string {
  const blank = (text: string) => text.replace(/[^\n]/g, '');
  return markdown.replace(/<!--[\s\S]*?-->/g, blank).replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** `[text](target)` and `![alt](target)` outside code, with their line numbers. */
function links(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  prose(markdown)
    .split('\n')
    .forEach((text, index) => {
      const withoutCode = text.replace(/`[^`]*`/g, '');
      for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push({ target: match[1]!, line: index + 1 });
    });
  return found;
}

describe('README.md and docs/', () => {
  it('has a document for each reader the README sends on', () => {
    const names = DOCS.map((file) => relative(join(ROOT, 'docs'), file));
    expect(names).toEqual(
      expect.arrayContaining(['merchant-setup.md', 'chatbot-integration.md', 'platform.md', 'panel.md', 'operations.md', 'security.md', 'settings.md', 'troubleshooting.md']),
    );
  });

  it.each(DOCS.map((file) => [relative(ROOT, file), file]))('every relative link in %s resolves to a file and heading', (_name, file) => {
    const broken: string[] = [];
    for (const { target, line } of links(readFileSync(file, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
      const [path = '', anchor] = target.split('#');
      const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(destination)) {
        broken.push(`line ${line}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && !(destination.endsWith('.md') && headingAnchors(readFileSync(destination, 'utf8')).has(anchor))) {
        broken.push(`line ${line}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('never runs the unpublished package through npx (README, docs, the Claude Desktop extension)', () => {
    const offenders: string[] = [];
    for (const file of [...DOCS, join(ROOT, 'mcpb', 'manifest.json')]) {
      const text = readFileSync(file, 'utf8');
      text.split('\n').forEach((line, index) => {
        if (/npx\s+(?:-y\s+|--yes\s+)?stripe-billing-mcp\b/.test(line)) offenders.push(`${relative(ROOT, file)}:${index + 1}: ${line.trim()}`);
      });
      // A client config such as {"command": "npx", "args": ["-y", "stripe-billing-mcp", …]}.
      for (const match of text.matchAll(/"command"\s*:\s*"npx"[^}]*stripe-billing-mcp/g)) offenders.push(`${relative(ROOT, file)}: ${match[0].replace(/\s+/g, ' ')}`);
    }
    expect(offenders).toEqual([]);
  });

  it('keeps the README short, with both Quick start commands as they are', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm install && npm test');
  });

  it('documents every setting the server reads in the settings reference', () => {
    const reference = readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8');
    const missing = Object.keys(settingsSchema.shape).filter((name) => !reference.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('finds GitHub anchors the way GitHub makes them', () => {
    const anchors = headingAnchors('# Check the set-up (`doctor`)\n## Stripe\'s rate limits\n## The answer of `POST /v1/tools/{name}`\n## Tools\n## Tools\n```\n# not a heading\n```\n');
    expect([...anchors]).toEqual(['check-the-set-up-doctor', 'stripes-rate-limits', 'the-answer-of-post-v1toolsname', 'tools', 'tools-1']);
  });
});
