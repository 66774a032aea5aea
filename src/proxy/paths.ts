// Where the proxy lives on a host and inside its container. The container directory is the
// official haproxy image's config directory, so either image can run the same files.

export const PROXY_CONTAINER_NAME = 'gangway-proxy';
export const PROXY_HOST_DIR = '/var/lib/gangway/proxy';
export const PROXY_CONTAINER_DIR = '/usr/local/etc/haproxy';
export const CONFIG_FILE = 'haproxy.cfg';
const SOCKET_FILE = 'admin.sock';
/** The host group whose members may use the admin socket (see config-file.ts); the proxy runs with its gid. */
export const PROXY_SOCKET_GROUP = 'docker';
/**
 * The uid HAProxy runs as (identity.ts): above what adduser allocates (system 100-999, users up to
 * 59999), systemd's dynamic users (61184-65519) and nobody (65534), below the first subordinate
 * uid range useradd hands out (100000). `proxy.uid` in the config overrides it.
 */
export const PROXY_UID = 80080;
/** Port HAProxy listens on inside its container; the host port is published onto it. */
export const PROXY_LISTEN_PORT = 80;

export const PROXY_LABEL = { managed: 'gangway.managed', spec: 'gangway.proxy.spec' } as const;
export const MANAGED_PROXY = 'proxy';

export const hostSocketPath = (hostDir: string = PROXY_HOST_DIR): string => `${hostDir}/${SOCKET_FILE}`;
export const containerSocketPath = `${PROXY_CONTAINER_DIR}/${SOCKET_FILE}`;
