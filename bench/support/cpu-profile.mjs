// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function
// and per owner (a package in node_modules, Node's own code, this project's dist/, the garbage
// collector), so a bench can print "what is ours" next to its figures.
import { readFileSync } from 'node:fs';

/** Who a frame belongs to, from its script URL. */
export function ownerOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (/\/dist\//.test(url)) return 'ours';
  return url.replace(/^file:\/\//, '');
}

/**
 * { totalMs, owners: [{ owner, ms, share }], functions: [{ name, owner, ms, share }] }: self time
 * summed per owner and per function (name + script + line), largest first; idle time left out.
 */
export function summarizeProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const owners = new Map();
  const functions = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    totalUs += us;
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    const entry = functions.get(key) ?? { name: key, owner, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us) => `${((us / totalUs) * 100).toFixed(1)} %`;
  return {
    totalMs: totalUs / 1000,
    owners: [...owners].sort((a, b) => b[1] - a[1]).map(([owner, us]) => ({ owner, ms: Math.round(us / 1000), share: share(us) })),
    functions: [...functions.values()].sort((a, b) => b.us - a.us).map(({ name, owner, us }) => ({ name, owner, ms: Math.round(us / 1000), share: share(us) })),
  };
}
