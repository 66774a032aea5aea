// dockerode (with docker-modem: ~95 ms to load on this machine) is imported when a command first
// connects to a host, not at start-up: an SSH host starts loading it as its handshake begins, so
// the load overlaps the wait for the server, and a command that never reaches an engine never
// loads it.
import type Docker from 'dockerode';

let loading: Promise<typeof Docker> | undefined;

export function loadDockerode(): Promise<typeof Docker> {
  loading ??= import('dockerode').then((m) => m.default);
  return loading;
}
