// Where the proxy lives on a host and inside its container. The container directory is the
// official haproxy image's config directory, so either image can run the same files.

export const PROXY_CONTAINER_NAME = 'gangway-proxy';
export const PROXY_HOST_DIR = '/var/lib/gangway/proxy';
export const PROXY_CONTAINER_DIR = '/usr/local/etc/haproxy';
export const CONFIG_FILE = 'haproxy.cfg';
export const SOCKET_FILE = 'admin.sock';
/** The host group whose members may use the admin socket (see config-file.ts). */
export const PROXY_SOCKET_GROUP = 'docker';
/** Port HAProxy listens on inside its container; the host port is published onto it. */
export const PROXY_LISTEN_PORT = 80;

export const PROXY_LABEL = { managed: 'gangway.managed', spec: 'gangway.proxy.spec' } as const;
export const MANAGED_PROXY = 'proxy';

export const hostConfigPath = (hostDir: string = PROXY_HOST_DIR): string => `${hostDir}/${CONFIG_FILE}`;
export const hostSocketPath = (hostDir: string = PROXY_HOST_DIR): string => `${hostDir}/${SOCKET_FILE}`;
export const containerSocketPath = `${PROXY_CONTAINER_DIR}/${SOCKET_FILE}`;
