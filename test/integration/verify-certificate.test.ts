// verify's certificate resource on the sandbox: vm2 runs a small HAProxy (the sandbox's proxy
// image, started by this test with its own config) serving two names with certificates this test
// made with openssl, on 127.0.0.1:CERT_PORT of the host only. `gangway verify -f checks.yml` makes
// the handshakes itself through each host's SSH connection: a good name trusting the test CA
// passes; the wrong name, a certificate near its end, an untrusted chain and a closed port fail,
// each naming the host and the reason, in the JSON, human and TAP outputs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { TestCa } from '../fixtures/test-certs.js';
import { gangway, onHost, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const info = inject('sandbox');
const HOST = info.hosts[1]!.name;
const CONTAINER = 'gangway-it-verify-cert';
const DIR = '/tmp/gangway-it-verify-cert';
const IN_CONTAINER = '/usr/local/etc/haproxy';
const CERT_PORT = 18443;
const CLOSED_PORT = 18444;

let project: string;
let ca: TestCa;

const run = (args: string[]) => gangway(args, { cwd: project, timeoutMs: 90_000 });
const removeProxy = () => onHost(info, HOST, `docker rm -f ${CONTAINER} >/dev/null 2>&1; rm -rf ${DIR}; true`);

/** Writes a file on the host from the runner's text (base64 keeps any byte out of the shell). */
const putFile = (path: string, text: string, mode = '600') =>
  onHost(info, HOST, `echo ${Buffer.from(text).toString('base64')} | base64 -d > ${path} && chmod ${mode} ${path}`);

function certificateResults(stdout: string): CheckResult[] {
  return stdout.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { kind?: string; data?: CheckResult })
    .filter((e) => e.kind === 'verify' && e.data?.type === 'certificate').map((e) => e.data!);
}

const check = (title: string, attrs: Record<string, unknown>) => ({ certificate: attrs.certificate, port: CERT_PORT, title, ...attrs });

describe('verify certificate on a sandbox host', () => {
  let results: CheckResult[];
  let human: string;
  let tap: string;
  let junit: string;

  beforeAll(async () => {
    await removeProxy();
    ca = new TestCa();
    const good = ca.issue('good', ['app.test', 'www.app.test'], 90);
    const near = ca.issue('near', ['near.test'], 3);
    await onHost(info, HOST, `mkdir -p ${DIR}`);
    await putFile(`${DIR}/good.pem`, good.bundle);
    await putFile(`${DIR}/near.pem`, near.bundle);
    // The first line is also the certificate of any other name (HAProxy's default).
    await putFile(`${DIR}/crt-list.txt`, `${IN_CONTAINER}/good.pem app.test\n${IN_CONTAINER}/near.pem near.test\n`, '644');
    await putFile(`${DIR}/haproxy.cfg`, [
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 10s',
      '  timeout server 10s',
      'frontend https',
      `  bind :8443 ssl crt-list ${IN_CONTAINER}/crt-list.txt`,
      '  http-request return status 200 content-type text/plain string "ok\\n"',
      '',
    ].join('\n'), '644');
    const started = await onHost(info, HOST, [
      `docker pull -q ${testProxyImage(info)} >/dev/null 2>&1`,
      `docker run -d --name ${CONTAINER} -p 127.0.0.1:${CERT_PORT}:8443 -v ${DIR}:${IN_CONTAINER}:ro --entrypoint haproxy ${testProxyImage(info)} -db -f ${IN_CONTAINER}/haproxy.cfg >/dev/null`,
      'for i in $(seq 50); do',
      // HAProxy's own listener on 8443 (0x20FB), seen in the container's network namespace.
      `  pid=$(docker inspect -f '{{.State.Pid}}' ${CONTAINER}); [ "$pid" -gt 0 ] 2>/dev/null && grep -qi ':20FB ' /proc/$pid/net/tcp /proc/$pid/net/tcp6 2>/dev/null && { echo listening; exit 0; }`,
      '  sleep 0.2',
      'done',
      `docker logs ${CONTAINER} 2>&1 | tail -5`,
    ].join('\n'));
    expect(started.trim(), started).toBe('listening');

    project = writeProject(info, { repo: 'verify-cert-it/none' });
    const caFile = ca.certFile;
    writeFileSync(join(project, 'checks.yml'), stringify({
      hosts: {
        [HOST]: [
          check('good name, trusting the test CA', { certificate: 'app.test', ca_file: caFile, min_days_left: 30, issuer: 'Gangway Test CA', names: ['www.app.test'] }),
          check('wrong name', { certificate: 'wrong.test', ca_file: caFile }),
          check('near expiry', { certificate: 'near.test', ca_file: caFile, min_days_left: 14 }),
          check('untrusted chain', { certificate: 'app.test' }),
          check('closed port', { certificate: 'app.test', ca_file: caFile, port: CLOSED_PORT }),
        ],
      },
    }));
    const json = await run(['--json', 'verify', '-f', 'checks.yml']);
    results = certificateResults(json.stdout);
    expect(results, json.output).toHaveLength(5);
    human = (await run(['verify', '-f', 'checks.yml'])).output;
    tap = (await run(['verify', '-f', 'checks.yml', '--tap'])).stdout;
    junit = (await run(['verify', '-f', 'checks.yml', '--junit'])).stdout;
  }, 300_000);

  afterAll(async () => {
    await removeProxy();
    ca?.remove();
  });

  const result = (title: string) => results.find((r) => r.title === title)!;

  it('passes the good name trusting the test CA, with what it saw', () => {
    const r = result('good name, trusting the test CA');
    expect(r.status, JSON.stringify(r)).toBe('pass');
    expect(r.host).toBe(HOST);
    expect(r.expectations.find((e) => e.attribute === 'certificate')!.observed).toMatch(/^names app\.test, www\.app\.test; issuer O=Gangway Tests, CN=Gangway Test CA; serial \w+; valid .* \(8\d days left\)$/);
  });

  it('fails the wrong name: the default certificate does not match it', () => {
    const r = result('wrong name');
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^name: expected matches wrong\.test, got does not match \(Hostname\/IP does not match certificate's altnames: .*app\.test/);
  });

  it('fails a certificate near its end on min_days_left', () => {
    const r = result('near expiry');
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^days left: expected at least 14, got [23] \(not after /);
  });

  it('fails an untrusted chain without ca_file', () => {
    const r = result('untrusted chain');
    expect(r.status).toBe('fail');
    expect(r.message).toBe('chain: expected verifies against the default roots, got not verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE: its issuer is not a trusted root, or the chain is incomplete)');
  });

  it('fails a closed port saying the connection was refused on that host', () => {
    const r = result('closed port');
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(new RegExp(`^handshake: expected a TLS handshake with 127\\.0\\.0\\.1:${CLOSED_PORT}, got cannot connect to 127\\.0\\.0\\.1:${CLOSED_PORT} from ${HOST}: .*[Rr]efused`));
  });

  it('the human, TAP and JUnit reports name the host and the reason', () => {
    expect(junit).toMatch(new RegExp(`<testsuite name="${HOST}"[^]*<testcase classname="${HOST}\\.host" name="wrong name">\\s*<failure message="name: expected matches wrong\\.test[^"]*" type="certificate">`));
    expect(human).toContain(`FAIL near expiry`);
    expect(human).toMatch(new RegExp(`${HOST}.*days left: expected at least 14`));
    expect(tap).toMatch(new RegExp(`not ok \\d+ - \\[${HOST}\\] untrusted chain\\n  ---\\n  status: fail`));
    expect(tap).toMatch(new RegExp(`ok \\d+ - \\[${HOST}\\] good name, trusting the test CA`));
  });
});
