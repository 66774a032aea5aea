// gangway/docker-host: the sandbox "VM" — Debian with sshd and its own dockerd, started on
// top of the debootstrapped rootfs. The bare flavour (sshd only) shares everything but dockerd.
import { fileEntry, type ImageSpec } from '../image-spec.js';
import { ROOTFS } from './common.js';

export type HostFlavour = 'docker-host' | 'bare-host';

export const HOST_ENTRYPOINT = '/usr/local/sbin/gangway-host-entrypoint';
/** Registry name every inner engine trusts over plain HTTP. */
export const SANDBOX_REGISTRY_NAME = 'registry:5000';
/**
 * A second name the inner engines trust over plain HTTP, for fault tests: a listener that stands
 * in for a broken registry (one that accepts and never answers) is given this network alias.
 */
export const SANDBOX_FAULT_REGISTRY_NAME = 'faulty-registry:5000';

/** sshd settings for a test host: keys only, and room for many channels on one connection. */
export const SSHD_CONFIG = [
  'PermitRootLogin prohibit-password',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'MaxSessions 100',
  'MaxStartups 100:30:200',
  'AllowTcpForwarding yes',
  'AllowStreamLocalForwarding yes',
  'UseDNS no',
  '',
].join('\n');

/** The engine's command line on a docker host. */
export const dockerdCommand = (registry = SANDBOX_REGISTRY_NAME): string =>
  `dockerd --insecure-registry ${registry} --insecure-registry ${SANDBOX_FAULT_REGISTRY_NAME} --data-root /var/lib/docker`;

export function hostEntrypointScript(flavour: HostFlavour, registry = SANDBOX_REGISTRY_NAME): string {
  const common = [
    '#!/bin/sh',
    '# gangway sandbox host: make cgroups writable, start sshd, then stay in the foreground.',
    'set -u',
    'log() { echo "gangway-host: $*" >&2; }',
    'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then',
    '  # cgroup v2: move ourselves out of the root group so the inner engine may enable controllers.',
    '  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || log "cannot remount /sys/fs/cgroup rw"',
    '  mkdir -p /sys/fs/cgroup/init',
    '  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :',
    "  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || :",
    'else',
    '  # cgroup v1: the hierarchies are mounted read-only; a plain remount of each is "busy", a bind remount works.',
    '  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || log "cannot remount /sys/fs/cgroup rw"',
    '  for dir in /sys/fs/cgroup/*/; do',
    '    mount -o remount,bind,rw "$dir" 2>/dev/null || log "cannot remount $dir rw"',
    '  done',
    'fi',
    'mkdir -p /run/sshd /root/.ssh',
    'chmod 700 /root/.ssh',
    '# Host keys are made per container (the image has none), so every host has its own.',
    'ssh-keygen -A >/dev/null',
  ];
  if (flavour === 'bare-host') return [...common, 'exec /usr/sbin/sshd -D -e', ''].join('\n');
  return [
    ...common,
    '/usr/sbin/sshd -E /var/log/sshd.log || { log "sshd did not start"; exit 1; }',
    // dockerd runs under a restart loop, not as the container's main process, so the engine can
    // die or be killed and come back on the same host (same address, ports and volumes), as it
    // would under systemd on a real machine.
    'supervise_dockerd() {',
    '  while :; do',
    `    ${dockerdCommand(registry)}`,
    '    log "dockerd exited with status $?; starting it again in 1 s"',
    '    sleep 1',
    '  done',
    '}',
    'supervise_dockerd &',
    'supervisor=$!',
    '# docker stop: end the loop, then give dockerd its SIGTERM and the time it takes to stop its containers.',
    'stop_host() {',
    '  kill "$supervisor" 2>/dev/null',
    '  pid=$(cat /var/run/docker.pid 2>/dev/null) || pid=',
    '  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then',
    '    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done',
    '  fi',
    '  exit 0',
    '}',
    'trap stop_host TERM INT',
    'wait "$supervisor"',
    '',
  ].join('\n');
}

export interface HostImageInputs {
  flavour: HostFlavour;
  /** gangway/<flavour>-rootfs:<key>, from ensureRootfsImage. */
  rootfsTag: string;
}

export function hostImage(inputs: HostImageInputs): ImageSpec {
  return {
    name: inputs.flavour,
    dockerfile: [
      `FROM ${inputs.rootfsTag}`,
      `COPY ${ROOTFS}/ /`,
      // debootstrap generated host keys once; every host must make its own.
      'RUN rm -f /etc/ssh/ssh_host_*',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'EXPOSE 22 80',
      `ENTRYPOINT ["${HOST_ENTRYPOINT}"]`,
      '',
    ].join('\n'),
    context: [
      fileEntry(`${ROOTFS}${HOST_ENTRYPOINT}`, hostEntrypointScript(inputs.flavour), 0o755),
      fileEntry(`${ROOTFS}/etc/ssh/sshd_config.d/gangway.conf`, SSHD_CONFIG),
    ],
    extraInputs: { base: inputs.rootfsTag },
  };
}
