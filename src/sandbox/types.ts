// What a running sandbox is, as the tests and rehearsals see it.
import type { HostFlavour } from './images/host.js';

export interface SandboxHost {
  /** vm1, vm2, ... — the name used in the generated config and the host's DNS alias. */
  name: string;
  /** docker-host (its own dockerd runs) or bare-host (no Docker until `gangway setup`); absent in sandbox.json of older runs = docker-host. */
  flavour?: HostFlavour;
  containerId: string;
  /** Always 127.0.0.1: the runner reaches hosts only through loopback-published ports. */
  address: string;
  sshPort: number;
  /** The host's port 80 (where its proxy listens), published on the runner. */
  httpPort: number;
  /** The host's port 443 (its proxy's HTTPS listener), published on the runner; absent in sandbox.json of older runs. */
  httpsPort?: number;
}

/** The HAProxy release lines the sandbox builds: Debian 12's 2.6 and Debian 13's 3.0. */
export const PROXY_LINES = ['2.6', '3.0'] as const;
export type ProxyLine = (typeof PROXY_LINES)[number];

export interface SandboxInfo {
  /** Label value shared by every resource of this sandbox (gangway.sandbox=<id>). */
  id: string;
  network: string;
  hosts: SandboxHost[];
  registry: {
    containerId: string;
    /** Name every engine uses for images: registry:5000 (alias on the sandbox network, /etc/hosts on the runner). */
    name: string;
    /** Port published on 127.0.0.1 of the runner. */
    localPort: number;
  };
  /** Private key that the hosts accept for root. */
  keyPath: string;
  /** known_hosts with every host's key, as [127.0.0.1]:port entries. */
  knownHostsPath: string;
  /** A gangway.yml fragment (hosts:, ssh:) that points at the sandbox. */
  configFragmentPath: string;
  /** A complete gangway.yml deploying examples/hello to these hosts (service hello, web + workers). */
  configPath?: string;
  /**
   * Images the sandbox built and pushed, by role: proxy (HAProxy 2.6), busybox base, example app
   * (hello 1.0.0, variant ok). registry:5000/gangway/<name>:<hash> when pushed; the local
   * gangway/<name>:<hash> tags when the sandbox was started without pushing.
   */
  images: {
    /** HAProxy 2.6, what the sandbox's own config and rehearsals use (= proxies['2.6']). */
    proxy: string;
    /** Every HAProxy line built, 2.6 included; absent in sandbox.json of older runs (see proxyImageOf). */
    proxies?: Record<ProxyLine, string>;
    busybox: string;
    hello: string;
    /** gangway/acme (the renewal container of `proxy.ssl: true`); absent in sandbox.json of older runs. */
    acme?: string;
  };
  /** ISO time the sandbox came up. */
  createdAt?: string;
}

export const SANDBOX_LABEL = 'gangway.sandbox';
