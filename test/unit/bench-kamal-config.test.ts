import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { classifyVersionAnswer, kamalCleanupCommand, kamalDeployConfig, parseBuildOutput, verdict, verdictTable, type ToolPhase } from '../../bench/zero-downtime/kamal-config.js';

const phase = (wallMs: number, failed: number, wrong = 0): ToolPhase => ({ wallMs, failed, wrong, p99Ms: 12 });

describe('bench Kamal contender: deploy.yml', () => {
  const yml = parse(kamalDeployConfig({
    service: 'hello', repository: 'bench/hello', registry: 'registry:5000', hosts: ['vm1', 'vm2'],
    proxyRepository: 'bench/kamal-proxy', keyPath: '/app/.ssh/id_bench', deployTimeoutS: 30, env: { MODE: 'bench' },
  })) as Record<string, any>;

  it('names the web hosts, the image and the proxy image in the registry the hosts pull from', () => {
    expect(yml.service).toBe('hello');
    expect(yml.image).toBe('bench/hello');
    expect(yml.servers).toEqual({ web: { hosts: ['vm1', 'vm2'] } });
    expect(yml.registry.server).toBe('registry:5000');
    expect(yml.proxy.run).toEqual({ registry: 'registry:5000', repository: 'bench/kamal-proxy', version: 'v0.9.2' });
    expect(yml.proxy.healthcheck.path).toBe('/up');
  });

  it('uses only the given key and no ssh config, and the given deploy timeout and env', () => {
    expect(yml.ssh).toEqual({ user: 'root', keys_only: true, keys: ['/app/.ssh/id_bench'], config: false });
    expect(yml.deploy_timeout).toBe(30);
    expect(yml.env).toEqual({ clear: { MODE: 'bench' } });
  });

  it('keeps the registry credentials inline (no secrets file)', () => {
    expect(typeof yml.registry.username).toBe('string');
    expect(typeof yml.registry.password).toBe('string');
  });
});

describe('bench Kamal contender: helpers', () => {
  it('cleans the proxy by name and the app containers by the service label', () => {
    const cmd = kamalCleanupCommand('shop');
    expect(cmd).toContain('docker rm -f kamal-proxy');
    expect(cmd).toContain('label=service=shop');
    expect(cmd).not.toContain('label=service=hello');
  });

  it('reads the two tags from the build script, the last ones printed', () => {
    expect(parseBuildOutput('noise\ntools=a:1\nproxy=b:1\ntools=a:2\nproxy=b:2\n')).toEqual({ tools: 'a:2', proxy: 'b:2' });
    expect(() => parseBuildOutput('tools=a:1\n')).toThrow(/both images/);
  });

  it('classifies GET /version answers', () => {
    expect(classifyVersionAnswer(200, '2.0.0\n')).toBe('right');
    expect(classifyVersionAnswer(200, 'unknown\n')).toBe('wrong');
    expect(classifyVersionAnswer(502, '2.0.0')).toBe('failed');
    expect(classifyVersionAnswer(0, '')).toBe('failed');
  });
});

describe('bench Kamal contender: the goal', () => {
  it('is met when gangway is faster and no worse in failed plus wrong answers', () => {
    expect(verdict('p', phase(10_000, 0), phase(48_000, 0)).ahead).toBe(true);
    expect(verdict('p', phase(10_000, 3, 0), phase(48_000, 0, 5)).ahead).toBe(true);
  });

  it('is missed when slower, or when users got more wrong', () => {
    expect(verdict('p', phase(50_000, 0), phase(48_000, 0)).ahead).toBe(false);
    const worse = verdict('p', phase(10_000, 2, 1), phase(48_000, 1, 1));
    expect(worse.ahead).toBe(false);
    expect(worse.why).toContain('3 > 2');
  });

  it('renders one row per phase with the verdict', () => {
    const table = verdictTable([verdict('1. deploy', phase(9_000, 0), phase(48_000, 0)), verdict('4. rollback', phase(40_000, 0), phase(38_000, 43))]);
    expect(table).toContain('| 1. deploy | 9.0 | 48.0 | 0 + 0 | 0 + 0 |');
    expect(table).toMatch(/\| 4\. rollback .*\*\*no\*\*/);
  });
});
