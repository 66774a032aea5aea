// Where the proxy lives on a host and inside its container. The container directory is the
// official haproxy image's config directory, so either image can run the same files.

export const PROXY_CONTAINER_NAME = 'gangway-proxy';
export const PROXY_HOST_DIR = '/var/lib/gangway/proxy';
export const PROXY_CONTAINER_DIR = '/usr/local/etc/haproxy';
export const CONFIG_FILE = 'haproxy.cfg';
/**
 * A flag map, empty in the file: while the runtime holds its key, every response closes its
 * connection (render.ts, seamless-reload.ts). A reload loads it empty again.
 */
export const CLOSING_MAP_FILE = 'closing.map';
export const containerClosingMapPath = `${PROXY_CONTAINER_DIR}/${CLOSING_MAP_FILE}`;
/** The one key of closing.map; present at runtime only, for the moments before a reload. */
export const CLOSING_KEY = 'closing';
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

/** Port of the HTTPS listener inside the container; the host's https_port is published onto it. */
export const PROXY_TLS_PORT = 443;
/** Certificates, one `<name>.pem` each (chain then key, as HAProxy loads them), and their crt-list. */
export const CERTS_DIR = 'certs';
export const CRT_LIST_FILE = 'crt-list.txt';
/** The self-signed certificate every proxy has, so the HTTPS bind loads before any real one exists. */
export const DEFAULT_CERT_NAME = 'default';
export const containerCertPath = (name: string): string => `${PROXY_CONTAINER_DIR}/${CERTS_DIR}/${name}.pem`;
export const containerCrtListPath = `${PROXY_CONTAINER_DIR}/${CERTS_DIR}/${CRT_LIST_FILE}`;
/** Where HTTP-01 challenges go (tls-common conventions): the ACME container on the app network. */
export const ACME_BACKEND = 'acme';
export const ACME_CONTAINER_NAME = 'gangway-acme';
export const ACME_PORT = 8402;
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
