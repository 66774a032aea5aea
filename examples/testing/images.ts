// Build contexts for the example services, written to a cache directory because nothing can be
// pulled here: every image is FROM scratch plus Debian's static busybox (or HAProxy and the
// libraries `ldd` lists). gangway/testing hashes each context, so an unchanged one is built once.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(tmpdir(), 'gangway-testing-examples');
const BUSYBOX = '/bin/busybox';
const HAPROXY = '/usr/sbin/haproxy';

/** Writes a file only when its content changed, so the context hash and mtime stay put. */
function put(path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(content))) return;
  writeFileSync(path, content, { mode });
}

function copy(from: string, to: string, mode = 0o755): void {
  mkdirSync(dirname(to), { recursive: true });
  if (!existsSync(to)) copyFileSync(from, to);
  put(to, readFileSync(from), mode);
}

const busyboxDockerfile = (cmd: string[]) => `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
CMD ${JSON.stringify(cmd)}
`;

const cgi = (body: string) => `#!/bin/sh\n${body}\n`;

/** A static page on :8080 ("hello from httpd"): the smallest HTTP service. */
export function httpdContext(): string {
  const dir = join(ROOT, 'httpd');
  copy(BUSYBOX, join(dir, 'busybox'));
  put(join(dir, 'www/index.html'), 'hello from httpd\n');
  put(join(dir, 'Dockerfile'), busyboxDockerfile(['httpd', '-f', '-v', '-p', '8080', '-h', '/www']));
  return dir;
}

/**
 * The database-like service: a key-value store on :8080 keeping one file per key in /data.
 * GET /cgi-bin/set?key=value stores, GET /cgi-bin/get?key reads.
 */
export function kvContext(): string {
  const dir = join(ROOT, 'kv');
  copy(BUSYBOX, join(dir, 'busybox'));
  put(join(dir, 'www/cgi-bin/set'), cgi(`key="\${QUERY_STRING%%=*}"; value="\${QUERY_STRING#*=}"
case "$key" in ''|*[!a-z0-9_]*) printf 'Status: 400 Bad Request\\r\\nContent-Type: text/plain\\r\\n\\r\\nbad key\\n'; exit 0;; esac
printf '%s' "$value" > "/data/$key"
printf 'Content-Type: text/plain\\r\\n\\r\\nstored %s\\n' "$key"`), 0o755);
  put(join(dir, 'www/cgi-bin/get'), cgi(`key="$QUERY_STRING"
case "$key" in ''|*[!a-z0-9_]*) printf 'Status: 400 Bad Request\\r\\n\\r\\n'; exit 0;; esac
if [ -f "/data/$key" ]; then printf 'Content-Type: text/plain\\r\\n\\r\\n'; cat "/data/$key"; else printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\nno such key\\n'; fi`), 0o755);
  put(join(dir, 'www/index.html'), 'kv\n');
  put(join(dir, 'Dockerfile'), busyboxDockerfile(['sh', '-c', 'mkdir -p /data && echo "kv: serving /data on :8080" && exec httpd -f -v -p 8080 -h /www']));
  return dir;
}

/**
 * The app: /health, /cgi-bin/set and /cgi-bin/get forwarded to the kv service at $KV_URL, and
 * /shared/* served straight from the volume the kv service writes.
 */
export function appContext(): string {
  const dir = join(ROOT, 'app');
  copy(BUSYBOX, join(dir, 'busybox'));
  put(join(dir, 'www/health'), 'ok\n');
  for (const action of ['set', 'get']) {
    put(join(dir, `www/cgi-bin/${action}`), cgi(`if body=$(wget -q -O - "$KV_URL/cgi-bin/${action}?$QUERY_STRING" 2>/dev/null); then
  printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$body"
else
  printf 'Status: 502 Bad Gateway\\r\\nContent-Type: text/plain\\r\\n\\r\\nkv unreachable or key missing\\n'
fi`), 0o755);
  }
  put(join(dir, 'Dockerfile'), busyboxDockerfile(['sh', '-c', 'echo "app: starting, kv at $KV_URL" && exec httpd -f -v -p 8080 -h /www']));
  return dir;
}

/** HAProxy 2.6 from the host's package, FROM scratch: the reverse proxy, forwarding :8080 to $UPSTREAM. */
export function proxyContext(): string {
  const dir = join(ROOT, 'proxy');
  copy(HAPROXY, join(dir, 'rootfs/usr/sbin/haproxy'));
  const libs = execFileSync('ldd', [HAPROXY], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
  for (const lib of libs) copy(lib, join(dir, 'rootfs', lib));
  put(join(dir, 'haproxy.cfg'), `global
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout client 10s
  timeout server 10s
resolvers docker
  nameserver dns 127.0.0.11:53
frontend web
  bind :8080
  default_backend upstream
backend upstream
  server upstream "\${UPSTREAM}" resolvers docker init-addr libc,none
`);
  put(join(dir, 'Dockerfile'), `FROM scratch
COPY rootfs/ /
COPY haproxy.cfg /haproxy.cfg
CMD ["/usr/sbin/haproxy", "-db", "-f", "/haproxy.cfg"]
`);
  return dir;
}

/** A service that takes `bootMs` to start listening, like a database warming up. */
export function slowServiceContext(): string {
  const dir = join(ROOT, 'slow-service');
  copy(BUSYBOX, join(dir, 'busybox'));
  put(join(dir, 'www/index.html'), 'service\n');
  put(join(dir, 'Dockerfile'), busyboxDockerfile(['sh', '-c', 'sleep "${BOOT_SECONDS:-0}" && exec httpd -f -p 8080 -h /www']));
  return dir;
}
