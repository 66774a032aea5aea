// The one interface every command uses to touch a machine: run a command, talk to its Docker
// engine, open a stream to a TCP port or a unix socket on it. SshHost and LocalHost implement it.
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. Secrets travel here, never in argv. */
  stdin?: string | Buffer;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Kill the command (and fail) after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the command was killed by a signal or by the timeout. */
  signal?: string;
}

/** Counters that let tests assert, rather than assume, how a host was used. */
export interface HostStats {
  /** Transport connections opened (SSH handshakes); 0 for LocalHost. */
  connections: number;
  execChannels: number;
  /** Channels to the engine's API (forwards to its socket or dial-stdio): requests reuse them (keep-alive). */
  dockerStreams: number;
  /** Those of dockerStreams that run `docker system dial-stdio` (the engine's socket could not be forwarded). */
  dialStdioStreams: number;
  /** Engine API requests made through the host's dockerode client. */
  dockerRequests: number;
  forwards: number;
}

export interface Host {
  readonly name: string;
  readonly kind: 'ssh' | 'local';
  /** Open the connection (idempotent); fails with a GangwayError naming the host. */
  connect(): Promise<void>;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** A dockerode client whose requests travel over this host's one connection. */
  docker(): Promise<Docker>;
  openUnixSocket(path: string): Promise<Duplex>;
  openTcp(address: string, port: number): Promise<Duplex>;
  stats(): HostStats;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Where and how to reach a host: what the config resolves a host name to. */
export interface HostTarget {
  /** The name used in servers.<role>.hosts. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Absolute path of the private key, when one is configured. */
  identityFile?: string;
  /** Every configured key in the order tried, when there are several (an ssh config's IdentityFile lines). */
  identityFiles?: string[];
  /** IdentitiesOnly yes in the ssh config: the agent's other keys are not offered. */
  identitiesOnly?: boolean;
  /** ServerAliveInterval from the ssh config; otherwise ssh.keepalive_interval applies. */
  keepaliveIntervalMs?: number;
  /** The bastion the host is reached through (one hop). */
  jump?: JumpTarget;
  /** `localhost`: the local Docker engine, no SSH. */
  local: boolean;
}

/** A bastion: reached directly, with settings resolved like any host's. */
export type JumpTarget = Omit<HostTarget, 'jump' | 'local'>;
