// The one place the integration tests learn which HAProxy they run on: GANGWAY_TEST_PROXY=2.6
// (the default, Debian 12's) or 3.0 (Debian 13's). The vitest project integration-haproxy-3.0
// sets it; deploys on the sandbox, the proxy tests on the local engine and the runtime-API test
// all take their HAProxy from here.
import type Docker from 'dockerode';
import type { Events } from '../../../src/events/events.js';
import { ensureImage } from '../../../src/sandbox/image-builder.js';
import { ensureHaproxy30Image } from '../../../src/sandbox/images.js';
import { HAPROXY_BINARY, haproxyImage, loadHaproxyInputs } from '../../../src/sandbox/images/haproxy.js';
import { parseProxyLine, proxyImageOf, type ProxyLine, type SandboxInfo } from '../../../src/sandbox/index.js';

export const TEST_PROXY_LINE: ProxyLine = parseProxyLine(process.env.GANGWAY_TEST_PROXY, 'GANGWAY_TEST_PROXY');

/** The sandbox's image of the line under test, as proxy.image of a project's gangway.yml. */
export const testProxyImage = (info: SandboxInfo): string => proxyImageOf(info, TEST_PROXY_LINE);

/** The same line's image on the local engine (built or found cached), for tests without the sandbox. */
export async function localProxyImage(docker: Docker, events: Events): Promise<string> {
  if (TEST_PROXY_LINE === '3.0') return (await ensureHaproxy30Image(docker, events)).tag;
  return (await ensureImage(docker, haproxyImage(await loadHaproxyInputs()), events)).tag;
}

/**
 * How to run one HAProxy process on this machine with the config and socket in `dir`: 2.6 is
 * this machine's own binary; 3.0 is the same binary of the 3.0 image, in a container on the host's
 * network with `dir` mounted at the same path, so the config, the socket and 127.0.0.1 mean the
 * same inside and out. `docker run` forwards SIGTERM to HAProxy and removes the container; the
 * label lets a test remove one that outlived it.
 */
export function haproxyProcess(dir: string, configFile: string, image: string | undefined, label: string): { command: string; args: string[] } {
  if (TEST_PROXY_LINE === '2.6') return { command: HAPROXY_BINARY, args: ['-db', '-f', configFile] };
  if (!image) throw new Error('HAProxy 3.0 runs from its image: build it first (localProxyImage)');
  return {
    command: 'docker',
    args: ['run', '--rm', '--network', 'host', '--label', label, '-v', `${dir}:${dir}`, '--entrypoint', 'haproxy', image, '-db', '-f', configFile],
  };
}
