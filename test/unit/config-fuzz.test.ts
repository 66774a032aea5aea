// Bad input never half-applies, and never crashes: 10,000+ YAML documents mutated from valid
// configs (seeded PRNG, so every failure is reproducible from its seed and index) each load as a
// valid config or fail with GangwayError('config') whose every problem names file:line:col.
//   GANGWAY_FUZZ_SEED=<n> GANGWAY_FUZZ_COUNT=<n>   replay or widen a run
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { GangwayError } from '../../src/errors.js';

const SEED = Number(process.env.GANGWAY_FUZZ_SEED ?? 20261122);
const COUNT = Number(process.env.GANGWAY_FUZZ_COUNT ?? 10_000);

/** mulberry32: tiny, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID: string[] = [
  `service: hello
image: registry.example.com/acme/hello
registry:
  server: registry.example.com
  username: acme
  password: "\${REGISTRY_PASSWORD}"
servers:
  web: { hosts: [vm1, vm2] }
  workers: { hosts: [vm3], cmd: [bin/jobs], env: { clear: { QUEUE: default } } }
hosts:
  vm1: { address: 127.0.0.1, port: 2201 }
  vm2: { address: 127.0.0.1, port: 2202 }
ssh: { user: root, identity: ~/.ssh/id_ed25519, connect_timeout: 3s }
proxy:
  app_port: 80
  healthcheck: { path: /up, interval: 1s, timeout: 5s }
uptests: { path: uptests, timeout: 60s }
env:
  clear: { MODE: production, DB_HOST: "\${DB_HOST:-db.local}" }
  secret: [DATABASE_URL]
deploy_timeout: 30s
drain_timeout: 30s
retain: 5
boot: { limit: 50%, wait: 5s }
`,
  `service: api
image: registry:5000/team/api
servers:
  web:
    hosts:
      - app1
      - app2
      - app3
proxy:
  app_port: 8080
  healthcheck:
    path: /healthz
    interval: 500ms
    timeout: 2s
boot:
  limit: 2
deploy_timeout: 1m
retain: 2
`,
  `service: hello
image: gangway-demo/hello
servers:
  web:
    hosts: [localhost]
  workers:
    hosts: [localhost]
    cmd: [/app/worker]
build:
  context: .
  dockerfile: Dockerfile
  args:
    BASE: \${GANGWAY_BUSYBOX_IMAGE:-busybox:1.36}
    VERSION: \${GANGWAY_VERSION:-dev}
proxy:
  app_port: 80
  http_port: 8080
  bind: 127.0.0.1
  healthcheck: { path: /up, interval: 500ms, timeout: 2s }
env:
  clear: { MODE: demo }
drain_timeout: 10s
retain: 3
`,
];

// Characters and tokens YAML gives meaning to, and values a schema must refuse or accept.
const YAML_CHARS = [':', '-', '{', '}', '[', ']', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '?', '\t', '\n', ' ', '$', '\\', '\u0000', '\u00e9', '\ud83d\ude80'];
const TOKENS = [
  '', '~', 'null', 'true', 'no', '0', '-1', '1e400', '0x1F', '.nan', '99999999999999999999', '1.5', '"quoted"', "'single'",
  '[]', '{}', '[a, b]', '{ a: 1 }', '${UNSET_VAR}', '${DB_HOST}', '${}', '${1BAD}', '${A:-}', '$$', '30', '30x', '-5s', '0s', '5ms',
  '150%', '0%', 'abc def', '*anchor', '&anchor x', '!!binary aGk=', '!!int 3', '!custom 1', '<<: *x', '"\\u0000"', '|\n  block', '>-\n  folded',
  'localhost', '127.0.0.1', 'vm 1', 'registry:5000/a/b', '/up', 'up', 'http://x', 'a'.repeat(300),
];
const KEYS = ['service', 'image', 'servers', 'web', 'hosts', 'cmd', 'proxy', 'app_port', 'healthcheck', 'path', 'interval', 'timeout', 'env', 'clear', 'secret', 'retain', 'boot', 'limit', 'wait', 'ssh', 'user', 'port', 'address', 'registry', 'uptests', 'primary_role', 'bogus_key', 'drain_timeout', 'deploy_timeout', '<<'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number) => Math.floor(r() * n);

// ---- text-level mutations: what a typo, a bad paste or a bad merge does to a file ----------

type TextMutation = (text: string, r: Rand) => string;
const textMutations: TextMutation[] = [
  (t, r) => { const i = int(r, t.length + 1); return t.slice(0, i) + pick(r, YAML_CHARS) + t.slice(i); },
  (t, r) => { const i = int(r, t.length); return t.slice(0, i) + t.slice(i + 1 + int(r, 4)); },
  (t, r) => t.slice(0, int(r, t.length + 1)),
  (t, r) => { const lines = t.split('\n'); lines.splice(int(r, lines.length), 1); return lines.join('\n'); },
  (t, r) => { const lines = t.split('\n'); const i = int(r, lines.length); lines.splice(i, 0, lines[int(r, lines.length)]!); return lines.join('\n'); },
  (t, r) => { const lines = t.split('\n'); const i = int(r, lines.length); const j = int(r, lines.length); [lines[i], lines[j]] = [lines[j]!, lines[i]!]; return lines.join('\n'); },
  (t, r) => { const lines = t.split('\n'); const i = int(r, lines.length); lines[i] = r() < 0.5 ? `  ${lines[i]}` : lines[i]!.replace(/^ {1,2}/, ''); return lines.join('\n'); },
  (t, r) => { const lines = t.split('\n'); const i = int(r, lines.length); const c = lines[i]!.indexOf(':'); if (c >= 0) lines[i] = `${lines[i]!.slice(0, c + 1)} ${pick(r, TOKENS)}`; return lines.join('\n'); },
  (t, r) => { const lines = t.split('\n'); const i = int(r, lines.length); const indent = /^ */.exec(lines[i]!)![0]; lines.splice(i, 0, `${indent}${pick(r, KEYS)}: ${pick(r, TOKENS)}`); return lines.join('\n'); },
  (t, r) => { const keys = KEYS.filter((k) => t.includes(`${k}:`)); if (keys.length === 0) return t; const k = pick(r, keys); return t.replace(`${k}:`, `${pick(r, KEYS)}:`); },
];

// ---- tree-level mutations: well-formed YAML with the wrong shape -----------------------------

function allNodes(doc: Document): Array<{ parent: Node; key: unknown }> {
  const out: Array<{ parent: Node; key: unknown }> = [];
  const walk = (n: unknown) => {
    if (isMap(n)) for (const pair of n.items) { out.push({ parent: n, key: pair.key }); walk(pair.value); }
    else if (isSeq(n)) n.items.forEach((item, i) => { out.push({ parent: n, key: i }); walk(item); });
  };
  walk(doc.contents);
  return out;
}

function randomValue(r: Rand, depth = 0): unknown {
  switch (int(r, depth > 1 ? 6 : 8)) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, -1, 1.5, 65536, 2 ** 53, Number.MAX_SAFE_INTEGER * 10, NaN, Infinity]);
    case 3: return pick(r, TOKENS);
    case 4: return `${pick(r, TOKENS)}${pick(r, TOKENS)}`;
    case 5: return '';
    case 6: return Array.from({ length: int(r, 3) }, () => randomValue(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(r, 3) }, () => [pick(r, KEYS), randomValue(r, depth + 1)]));
  }
}

function treeMutation(text: string, r: Rand): string {
  const doc = parseDocument(text);
  // An earlier text mutation may have broken the YAML: leave that to the loader as it is.
  if (doc.errors.length > 0) return text;
  const nodes = allNodes(doc);
  if (nodes.length === 0) return text;
  const { parent, key } = pick(r, nodes);
  const op = int(r, 4);
  const container = parent as unknown as { get(k: unknown, keep?: boolean): unknown; set(k: unknown, v: unknown): void; delete(k: unknown): boolean };
  if (op === 0) container.delete(key);
  else if (op === 1) container.set(key, doc.createNode(randomValue(r)));
  else if (op === 2 && isMap(parent)) parent.set(pick(r, KEYS), doc.createNode(randomValue(r)));
  else {
    // Same value, another type: a string where a number is expected, a list where a map is...
    const v = container.get(key, true);
    const plain = isScalar(v) ? v.value : (v as { toJSON?: () => unknown } | undefined)?.toJSON?.();
    container.set(key, doc.createNode(r() < 0.5 ? [plain] : typeof plain === 'string' ? Number(plain) : String(plain)));
  }
  try {
    return doc.toString();
  } catch {
    return text;
  }
}

/** The n-th document of a run: reproducible from (seed, n) alone. */
export function mutatedDocument(seed: number, n: number): string {
  const r = prng((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
  let text = pick(r, VALID);
  const rounds = 1 + int(r, 3);
  for (let i = 0; i < rounds; i++) text = r() < 0.35 ? treeMutation(text, r) : pick(r, textMutations)(text, r);
  return text;
}

const POSITION = /^gangway\.yml:\d+:\d+ /;

type Outcome = { kind: 'valid' } | { kind: 'config-error'; lines: string[] } | { kind: 'crash'; error: string };

async function loadOne(dir: string, text: string): Promise<Outcome> {
  writeFileSync(join(dir, 'gangway.yml'), text);
  try {
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: { REGISTRY_PASSWORD: 'pw-fuzz', DATABASE_URL: 'postgres://fuzz', DB_HOST: 'db' } });
    if (loaded.roles.length === 0 || loaded.hostTargets.length === 0) return { kind: 'crash', error: 'a valid config without roles or hosts' };
    return { kind: 'valid' };
  } catch (err) {
    if (!(err instanceof GangwayError) || err.code !== 'config') return { kind: 'crash', error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) };
    const lines = err.details.length > 0 ? err.details : [err.message];
    return { kind: 'config-error', lines };
  }
}

describe('config loader fuzz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-config-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the generator is reproducible: the same seed gives the same documents', () => {
    expect(mutatedDocument(SEED, 17)).toBe(mutatedDocument(SEED, 17));
    expect(mutatedDocument(SEED, 17)).not.toBe(mutatedDocument(SEED + 1, 17));
  });

  it('every valid seed document loads', async () => {
    for (const text of VALID) expect(await loadOne(dir, text)).toEqual({ kind: 'valid' });
  });

  it('an alias without its anchor (found by this fuzz) is a config error at the alias', async () => {
    const outcome = await loadOne(dir, VALID[1]!.replace('retain: 2', 'retain: *nowhere'));
    expect(outcome).toEqual({ kind: 'config-error', lines: [expect.stringMatching(/^gangway\.yml:18:9 invalid YAML: unresolved alias/)] });
  });

  it(`${COUNT} mutated documents: a valid config or a config error with file:line:col, never another exception`, async () => {
    const crashes: string[] = [];
    const unplaced: string[] = [];
    const counts = { valid: 0, 'config-error': 0 };
    for (let n = 0; n < COUNT; n++) {
      const text = mutatedDocument(SEED, n);
      const outcome = await loadOne(dir, text);
      if (outcome.kind === 'crash') crashes.push(`#${n} (seed ${SEED}): ${outcome.error}\n---\n${text}\n---`);
      else {
        counts[outcome.kind]++;
        if (outcome.kind === 'config-error') {
          const bad = outcome.lines.filter((l) => !POSITION.test(l));
          if (bad.length > 0) unplaced.push(`#${n} (seed ${SEED}): ${bad.join(' | ')}`);
        }
      }
    }
    console.info(`config fuzz, seed ${SEED}: ${counts.valid} valid, ${counts['config-error']} config errors, ${crashes.length} crashes`);
    expect(crashes.slice(0, 3)).toEqual([]);
    expect(unplaced.slice(0, 5)).toEqual([]);
    // Both outcomes must be well represented, or the mutations are too weak (or too strong).
    expect(counts.valid).toBeGreaterThan(COUNT * 0.02);
    expect(counts['config-error']).toBeGreaterThan(COUNT * 0.3);
  }, 300_000);
});
