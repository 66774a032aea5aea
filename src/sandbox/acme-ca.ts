// A test ACME CA on the sandbox network: Pebble, and challtestsrv as its DNS. Pebble's directory
// is https://pebble:14000/dir for the hosts (and their containers, given the address), and
// published on 127.0.0.1 for the runner; challtestsrv's management API lets a test point names at
// sandbox hosts, which answer HTTP-01 on their port 80.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type Docker from 'dockerode';
import { messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import { createContainer } from '../docker/containers.js';
import { isAlreadyGone } from '../docker/errors.js';
import { PEBBLE_ALIAS, challtestsrvCreateOptions, networkAddress, pebbleCreateOptions, publishedPort, sandboxNames } from './containers.js';
import { execIn } from './engine.js';
import { ensurePebbleImage } from './images.js';
import { CHALLTESTSRV_PORTS, PEBBLE_LISTENER_CERT, PEBBLE_PORTS } from './images/pebble.js';

export interface AcmeCa {
  /** For ACME clients on the sandbox network: https://pebble:14000/dir. */
  directoryUrl: string;
  /** Pebble's address on the sandbox network (containers inside the hosts reach it by this, named `pebble`). */
  pebbleAddress: string;
  pebbleContainerId: string;
  challtestsrvContainerId: string;
  /** The certificate of Pebble's HTTPS listener: what an ACME client must trust (LEGO_CA_CERTIFICATES). */
  listenerCertPem: string;
  /** Runner-side ports on 127.0.0.1. */
  localPorts: { acme: number; management: number; challtestsrv: number };
}

export async function startAcmeCa(docker: Docker, opts: { id: string }, events: Events): Promise<AcmeCa> {
  const image = (await ensurePebbleImage(docker, events)).tag;
  const network = sandboxNames(opts.id).network;
  const started: Docker.Container[] = [];
  try {
    const dns = await createContainer(docker, challtestsrvCreateOptions({ id: opts.id, image }));
    started.push(dns);
    await dns.start();
    const dnsInspect = await dns.inspect();
    const dnsAddress = networkAddress(dnsInspect, network);
    if (!dnsAddress) throw operationError('challtestsrv has no address on the sandbox network', { step: 'acme ca' });

    const pebble = await createContainer(docker, pebbleCreateOptions({ id: opts.id, image, dnsServer: dnsAddress }));
    started.push(pebble);
    await pebble.start();
    const inspect = await pebble.inspect();
    const pebbleAddress = networkAddress(inspect, network);
    const acme = publishedPort(inspect, `${PEBBLE_PORTS.acme}/tcp`);
    const management = publishedPort(inspect, `${PEBBLE_PORTS.management}/tcp`);
    const challtestsrv = publishedPort(dnsInspect, `${CHALLTESTSRV_PORTS.management}/tcp`);
    if (!pebbleAddress || !acme || !management || !challtestsrv) throw operationError('Pebble or challtestsrv has no address or published port', { step: 'acme ca' });

    const listenerCertPem = await waitForListener(pebble);
    const ca: AcmeCa = {
      directoryUrl: `https://${PEBBLE_ALIAS}:${PEBBLE_PORTS.acme}/dir`,
      pebbleAddress,
      pebbleContainerId: pebble.id,
      challtestsrvContainerId: dns.id,
      listenerCertPem,
      localPorts: { acme, management, challtestsrv },
    };
    await retry('Pebble directory on 127.0.0.1', 15_000, () => httpsGet(ca, acme, '/dir').then(() => undefined));
    events.step('acme ca', 'done', { message: `Pebble at ${pebbleAddress}:${PEBBLE_PORTS.acme}, directory on 127.0.0.1:${acme}` });
    return ca;
  } catch (err) {
    await Promise.all(started.map((c) => c.remove({ force: true }).catch(() => {})));
    throw err;
  }
}

/** Removes Pebble and challtestsrv (sandboxDown removes them too: they carry the sandbox's label). */
export async function stopAcmeCa(docker: Docker, ca: AcmeCa): Promise<void> {
  for (const id of [ca.pebbleContainerId, ca.challtestsrvContainerId]) {
    await docker.getContainer(id).remove({ force: true }).catch((err: unknown) => { if (!isAlreadyGone(err)) throw err; });
  }
}

/** Points `name` (A record) at an address, e.g. a sandbox host's on the sandbox network. */
export async function setAcmeDnsRecord(ca: AcmeCa, name: string, address: string): Promise<void> {
  await httpPost(ca.localPorts.challtestsrv, '/add-a', { host: `${name.replace(/\.$/, '')}.`, addresses: [address] });
}

/** The root Pebble signs certificates with (made anew each time Pebble starts). */
export const acmeCaIssuingRoot = (ca: AcmeCa): Promise<string> => httpsGet(ca, ca.localPorts.management, '/roots/0');

async function waitForListener(pebble: Docker.Container): Promise<string> {
  let pem = '';
  await retry('Pebble listener certificate', 15_000, async () => {
    const out = await execIn(pebble, ['cat', PEBBLE_LISTENER_CERT], 5_000);
    if (out.exitCode !== 0 || !out.output.includes('BEGIN CERTIFICATE')) throw new Error(out.output.trim() || 'not written yet');
    pem = out.output;
  });
  return pem;
}

async function retry(what: string, timeoutMs: number, attempt: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw operationError(`${what} not ready within ${timeoutMs} ms: ${messageOf(err)}`, { step: 'acme ca', cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// Pebble's listener certificate names 127.0.0.1, so the runner checks it like any client would.
function httpsGet(ca: Pick<AcmeCa, 'listenerCertPem'>, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca: ca.listenerCertPem, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function httpPost(port: number, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', timeout: 5_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}
