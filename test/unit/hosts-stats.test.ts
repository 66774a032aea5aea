import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPoolStats, countDockerRequests, emptyStats, statsReport, STATS_FILE_ENV, type StatsReport } from '../../src/hosts/stats.js';
import type { HostStats } from '../../src/hosts/host.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const stats = (over: Partial<HostStats>): HostStats => ({ ...emptyStats(), ...over });

describe('host stats', () => {
  it('adds the pools of one command by host', () => {
    const totals = new Map<string, HostStats>();
    addPoolStats(totals, new Map([['vm1', stats({ connections: 1, execChannels: 3, dockerRequests: 10 })], ['vm2', stats({ forwards: 2 })]]));
    addPoolStats(totals, new Map([['vm1', stats({ connections: 1, dockerStreams: 2, dockerRequests: 5 })]]));
    expect(Object.fromEntries(totals)).toEqual({
      vm1: stats({ connections: 2, execChannels: 3, dockerStreams: 2, dockerRequests: 15 }),
      vm2: stats({ forwards: 2 }),
    });
  });

  it('reports CPU time in ms and peak memory from resource usage', () => {
    const report = statsReport(new Map([['vm1', stats({ execChannels: 1 })]]), { userCPUTime: 1_500_000, systemCPUTime: 250_000, maxRSS: 81_920 });
    expect(report).toEqual({ hosts: { vm1: stats({ execChannels: 1 }) }, cpuUserMs: 1500, cpuSystemMs: 250, maxRssKb: 81_920 });
  });

  describe('Engine API requests', () => {
    let server: Server;
    let seen = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen++;
        res.setHeader('content-type', 'application/json');
        res.end(req.url?.includes('/version') ? '{"Version":"0"}' : '[]');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('counts every request a dockerode client makes', async () => {
      let counted = 0;
      const docker = countDockerRequests(new Docker({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, protocol: 'http' }), () => { counted++; });
      await docker.version();
      await docker.listContainers();
      await docker.listImages();
      expect(counted).toBe(3);
      expect(seen).toBe(3);
    });
  });

  const child = (env: NodeJS.ProcessEnv) => {
    const script = `import { recordPoolStats } from './src/hosts/stats.ts';
recordPoolStats(new Map([['vm1', { connections: 1, execChannels: 4, dockerStreams: 1, dialStdioStreams: 1, dockerRequests: 9, forwards: 1 }]]));
recordPoolStats(new Map([['vm1', { connections: 0, execChannels: 1, dockerStreams: 0, dialStdioStreams: 0, dockerRequests: 2, forwards: 0 }]]));
let x = 0; for (let i = 0; i < 2e6; i++) x += i;`;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  };

  it(`writes the file ${STATS_FILE_ENV} names at exit, and only then`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'gangway-stats-'));
    const file = join(dir, 'stats.json');
    const off = child({ [STATS_FILE_ENV]: '' });
    expect(off.status, off.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    const on = child({ [STATS_FILE_ENV]: file });
    expect(on.status, on.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as StatsReport;
    expect(report.hosts).toEqual({ vm1: { connections: 1, execChannels: 5, dockerStreams: 1, dialStdioStreams: 1, dockerRequests: 11, forwards: 1 } });
    expect(report.cpuUserMs + report.cpuSystemMs).toBeGreaterThan(0);
    expect(report.maxRssKb).toBeGreaterThan(10_000);
  });
});
