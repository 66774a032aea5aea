// Reads the listening TCP ports out of /proc/net/tcp{,6} text. A published port answers on the
// host as soon as docker-proxy runs, listening or not, so only the container's own table says
// whether the server inside accepts connections yet.

const LISTEN_STATE = '0A';

export function listeningPorts(procNetTcpText: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcpText.split('\n')) {
    // "  0: 00000000:1F90 00000000:0000 0A ..." -> local address, remote address, state
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || !/^\d+:$/.test(fields[0]!)) continue;
    const local = fields[1]!;
    const state = fields[3]!;
    if (state.toUpperCase() !== LISTEN_STATE) continue;
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    const port = Number.parseInt(portHex, 16);
    if (Number.isFinite(port)) ports.add(port);
  }
  return ports;
}
