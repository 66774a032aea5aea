// The renewal container (`gangway-acme`), as data: its Engine API create options and the shell
// script it runs. One per host, beside the proxy: on start and then every N hours it obtains the
// certificate of each name in the list gangway writes (`lego run`) or renews it when fewer than D
// days are left (`lego renew --days D`), writes certs/<name>.pem for HAProxy (0600, the proxy's
// uid) and pushes it into the running proxy over the admin socket, so no reload happens. No
// gangway command has to run for a renewal. A failure keeps the old file (and the certificate
// HAProxy serves) and lands in certs/<name>.status.json with lego's last lines (the CA's answer).
import type Docker from 'dockerode';
import { KEEP_RUNNING } from '../state/restart-policy.js';
import { PROXY_CONTAINER_DIR, PROXY_HOST_DIR, PROXY_LABEL, containerSocketPath } from './paths.js';

export const ACME_CONTAINER_NAME = 'gangway-acme';
/** No image of the container is published: what a user does when the host has none (docs/tls.md, "The image"). */
export const ACME_IMAGE_HINT =
  'build it from examples/acme-image in gangway\'s source (docker build -t <registry>/<name>:<tag> examples/acme-image), push it to a registry the hosts pull from, and name it in proxy.acme.image; `gangway sandbox up` pushes one and names it in the gangway.yml it writes';
/** lego's own HTTP-01 server; HAProxy's `acme` backend points at gangway-acme:8402 on the app network. */
export const ACME_HTTP_PORT = 8402;
/** Where lego keeps the account key, the certificates and their keys: a volume no app mounts. */
export const ACME_DATA_VOLUME = 'gangway-acme';
export const ACME_DATA_DIR = '/var/lib/lego';
export const MANAGED_ACME = 'acme';
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
export const DEFAULT_RENEW_DAYS = 30;
export const DEFAULT_EVERY_HOURS = 12;
/** How long the container waits, once, for the proxy to resolve its name before the first pass. */
export const PROXY_WAIT_SECONDS = 60;
/**
 * After a pass with a failure, the next one comes after RETRY_FIRST_SECONDS, doubled after each
 * further failed pass up to RETRY_SECONDS (or N hours, if shorter): a CA that did not answer once
 * costs two minutes, not an hour, and five tries an hour at most stays within Let's Encrypt's
 * limit on failed validations (5 per account, name and hour).
 */
export const RETRY_FIRST_SECONDS = 120;
export const RETRY_SECONDS = 3600;

/** Shell: `retry_delay <failed passes in a row>` prints the seconds before the next pass (see RETRY_FIRST_SECONDS). */
export const RETRY_DELAY_FUNCTION = `retry_delay() {
  d=${RETRY_FIRST_SECONDS} i=1
  while [ "$i" -lt "$1" ] && [ "$d" -lt ${RETRY_SECONDS} ]; do d=$((d * 2)); i=$((i + 1)); done
  [ "$d" -gt ${RETRY_SECONDS} ] && d=${RETRY_SECONDS}
  echo "$d"
}`;

/** Inside the proxy's directory (the same path in both containers, so paths sent to HAProxy are its own). */
export const CERTS_DIR = `${PROXY_CONTAINER_DIR}/certs`;
export const CRT_LIST_PATH = `${CERTS_DIR}/crt-list.txt`;
/** The names to keep certificates for, one a line; gangway writes it, the container only reads it. */
export const ACME_NAMES_PATH = `${CERTS_DIR}/acme-names.txt`;
export const certPath = (name: string): string => `${CERTS_DIR}/${name}.pem`;
export const statusPath = (name: string): string => `${CERTS_DIR}/${name}.status.json`;

/** What `certs/<name>.status.json` holds (times in ISO 8601, UTC). */
export interface AcmeStatus {
  name: string;
  /** ok: the last attempt issued, renewed, or found nothing due; failed: see lastError. */
  result: 'ok' | 'failed';
  lastAttempt: string;
  lastSuccess?: string;
  /** The certificate on disk (served by HAProxy), whatever the last attempt did. */
  notAfter?: string;
  lastError?: string;
}

export interface AcmeContainerOptions {
  image: string;
  /** The app network, where HAProxy reaches this container by name. */
  network: string;
  directory?: string;
  email?: string;
  renewDays?: number;
  everyHours?: number;
  /** The proxy's uid and gid: certificate files belong to them, mode 0600. */
  proxyUid: number;
  proxyGid: number;
  /** A PEM bundle inside the container to trust for the CA's HTTPS (LEGO_CA_CERTIFICATES), for a test CA. */
  caCertificatesFile?: string;
  hostDir?: string;
  containerName?: string;
  /** The volume of lego's data (default gangway-acme). */
  dataVolume?: string;
  /** Extra name:address entries (a test CA reached by name from inside a sandbox host). */
  extraHosts?: string[];
  /** Extra labels (a test's cleanup label); gangway.* keys are reserved. */
  labels?: Record<string, string>;
}

/** Strict enough for a file name and a crt-list SNI filter: a DNS name, lower case. */
const NAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const isAcmeName = (name: string): boolean => NAME_RE.test(name);

/** The list file's text; names that could not be a file name or an SNI filter are refused. */
export function acmeNamesText(names: string[]): string {
  const bad = names.filter((n) => !isAcmeName(n));
  if (bad.length > 0) throw new Error(`not a DNS name for a certificate: ${bad.join(', ')}`);
  return [...new Set(names)].map((n) => `${n}\n`).join('');
}

export function acmeContainerSpec(opts: AcmeContainerOptions): Docker.ContainerCreateOptions {
  const renewDays = opts.renewDays ?? DEFAULT_RENEW_DAYS;
  const everyHours = opts.everyHours ?? DEFAULT_EVERY_HOURS;
  if (!Number.isInteger(renewDays) || renewDays < 1) throw new Error(`renew days ${renewDays} must be a whole number of at least 1`);
  if (!(everyHours > 0)) throw new Error(`renewal interval ${everyHours} h must be positive`);
  for (const key of Object.keys(opts.labels ?? {})) {
    if (key.startsWith('gangway.managed')) throw new Error(`label ${key} is reserved for gangway`);
  }
  const env = [
    `ACME_DIRECTORY=${opts.directory ?? LETS_ENCRYPT_DIRECTORY}`,
    `ACME_EMAIL=${opts.email ?? ''}`,
    `ACME_RENEW_DAYS=${renewDays}`,
    `ACME_EVERY_SECONDS=${Math.max(1, Math.round(everyHours * 3600))}`,
    `PROXY_OWNER=${opts.proxyUid}:${opts.proxyGid}`,
    ...(opts.caCertificatesFile ? [`LEGO_CA_CERTIFICATES=${opts.caCertificatesFile}`] : []),
  ];
  return {
    name: opts.containerName ?? ACME_CONTAINER_NAME,
    Image: opts.image,
    Entrypoint: ['/bin/sh', '-c', acmeScript(), ACME_CONTAINER_NAME],
    Cmd: [],
    Env: env,
    Labels: { ...(opts.labels ?? {}), [PROXY_LABEL.managed]: MANAGED_ACME },
    ExposedPorts: { [`${ACME_HTTP_PORT}/tcp`]: {} },
    HostConfig: {
      RestartPolicy: { ...KEEP_RUNNING },
      Binds: [`${opts.hostDir ?? PROXY_HOST_DIR}:${PROXY_CONTAINER_DIR}`],
      Mounts: [{ Type: 'volume', Source: opts.dataVolume ?? ACME_DATA_VOLUME, Target: ACME_DATA_DIR }],
      NetworkMode: opts.network,
      ...(opts.extraHosts?.length ? { ExtraHosts: opts.extraHosts } : {}),
      // Root, for the volume and for handing files to the proxy's uid, with only what that needs.
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'],
      SecurityOpt: ['no-new-privileges'],
    },
  };
}

/**
 * The container's script (busybox sh). Private keys only ever pass through files and socat's
 * stdin; nothing of them reaches argv, the environment or the log.
 */
export function acmeScript(): string {
  return `set -u
umask 077
SOCK=${containerSocketPath}
CERTS=${CERTS_DIR}
LIST=${ACME_NAMES_PATH}
CRT_LIST=${CRT_LIST_PATH}
DATA=${ACME_DATA_DIR}
log() { echo "gangway-acme: $*"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# One line of JSON string: backslash and quote escaped, control characters gone.
json() { printf '%s' "$1" | tr '\\n\\t' '  ' | tr -d '\\000-\\037' | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'; }
api() { socat -t 10 - "UNIX-CONNECT:$SOCK"; }
lego_() {
  set -- --accept-tos --path "$DATA" --server "$ACME_DIRECTORY" --domains "$NAME" --http --http.port :${ACME_HTTP_PORT} "$@"
  [ -n "$ACME_EMAIL" ] && set -- --email "$ACME_EMAIL" "$@"
  lego "$@" </dev/null
}
not_after() {
  [ -s "$1" ] || return 0
  d=$(openssl x509 -noout -enddate -in "$1" 2>/dev/null | sed 's/^notAfter=//')
  [ -n "$d" ] && date -u -D '%b %d %H:%M:%S %Y GMT' -d "$d" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null
}
write_status() { # result, error text
  [ "$1" = ok ] || FAILED=yes
  st="$CERTS/$NAME.status.json"
  prev_success=$(sed -n 's/.*"lastSuccess":"\\([^"]*\\)".*/\\1/p' "$st" 2>/dev/null)
  [ "$1" = ok ] && prev_success=$ATTEMPT
  na=$(not_after "$CERTS/$NAME.pem")
  {
    printf '{"name":"%s","result":"%s","lastAttempt":"%s"' "$NAME" "$1" "$ATTEMPT"
    [ -n "$prev_success" ] && printf ',"lastSuccess":"%s"' "$prev_success"
    [ -n "$na" ] && printf ',"notAfter":"%s"' "$na"
    [ -n "$2" ] && printf ',"lastError":"%s"' "$(json "$2")"
    printf '}\\n'
  } > "$st.tmp" && chmod 0644 "$st.tmp" && chown "$PROXY_OWNER" "$st.tmp" && mv -f "$st.tmp" "$st"
}
# The PEM as HAProxy loads it (chain, then key) for the runtime API: a payload ends at an empty line.
pem_payload() { grep -v '^[[:space:]]*$' "$1"; }
push() { # install or renew $NAME in the running proxy; prints what went wrong, if anything
  path="$CERTS/$NAME.pem"
  if proxy_has; then
    fresh=no
  else
    fresh=yes
    out=$(printf 'new ssl cert %s\\n' "$path" | api)
    case "$out" in *rror*|*annot*|*nknown*) echo "new ssl cert: $out"; return 1;; esac
  fi
  out=$( { printf 'set ssl cert %s <<\\n' "$path"; pem_payload "$path"; printf '\\n'; } | api)
  case "$out" in *ransaction*) ;; *) echo "set ssl cert: $out"; printf 'abort ssl cert %s\\n' "$path" | api >/dev/null; return 1;; esac
  out=$(printf 'commit ssl cert %s\\n' "$path" | api)
  case "$out" in *uccess*) ;; *) echo "commit ssl cert: $out"; return 1;; esac
  # A certificate new to the store is in no crt-list of the running proxy, whatever the file says.
  if [ "$fresh" = yes ]; then
    out=$(printf 'add ssl crt-list %s <<\\n%s %s\\n\\n' "$CRT_LIST" "$path" "$NAME" | api)
    case "$out" in *uccess*) ;; *) echo "add ssl crt-list: $out"; return 1;; esac
  fi
  list_on_disk
}
# The crt-list line on disk too, so a restarted proxy loads the certificate (also put back when
# something rewrote the file without it).
list_on_disk() {
  path="$CERTS/$NAME.pem"
  grep -q "^$path " "$CRT_LIST" 2>/dev/null && return 0
  { cat "$CRT_LIST" 2>/dev/null; printf '%s %s\\n' "$path" "$NAME"; } > "$CRT_LIST.tmp" &&
    chmod 0600 "$CRT_LIST.tmp" && chown "$PROXY_OWNER" "$CRT_LIST.tmp" && mv -f "$CRT_LIST.tmp" "$CRT_LIST"
}
proxy_has() { printf 'show ssl cert\\n' | api | grep -qxF "$CERTS/$NAME.pem"; }
one_name() {
  ATTEMPT=$(now)
  crt="$DATA/certificates/$NAME.crt"
  key="$DATA/certificates/$NAME.key"
  before=$(cat "$crt" 2>/dev/null | sha256sum)
  if [ -s "$crt" ]; then
    out=$(lego_ renew --days "$ACME_RENEW_DAYS" --no-random-sleep 2>&1)
  else
    out=$(lego_ run 2>&1)
  fi
  rc=$?
  if [ $rc -ne 0 ]; then
    err=$(printf '%s\\n' "$out" | tail -n 5)
    log "$NAME: lego failed ($rc), the current certificate stays: $err"
    write_status failed "lego exited $rc: $err"
    return
  fi
  after=$(cat "$crt" 2>/dev/null | sha256sum)
  if [ "$before" = "$after" ] && [ -s "$CERTS/$NAME.pem" ]; then
    log "$NAME: not due"
    # A proxy restarted from a crt-list without this name serves the default certificate for it: put it back.
    if ! proxy_has && ! problem=$(push); then write_status failed "the proxy did not take the certificate: $problem"; return; fi
    list_on_disk
    write_status ok ""
    return
  fi
  tmp="$CERTS/.$NAME.pem.tmp"
  if ! { cat "$crt" && echo && cat "$key"; } > "$tmp" 2>/dev/null || ! chown "$PROXY_OWNER" "$tmp"; then
    rm -f "$tmp"; write_status failed "cannot write $CERTS/$NAME.pem"; return
  fi
  chmod 0600 "$tmp" && mv -f "$tmp" "$CERTS/$NAME.pem"
  if problem=$(push); then
    log "$NAME: new certificate in the proxy (not after $(not_after "$CERTS/$NAME.pem"))"
    write_status ok ""
  else
    log "$NAME: written to disk, but the running proxy refused it: $problem"
    write_status failed "the proxy did not take the new certificate: $problem"
  fi
}
pass() {
  [ -r "$LIST" ] || { log "no $LIST yet"; return; }
  while read -r NAME; do
    case "$NAME" in ''|'#'*) continue;; esac
    one_name
  done < "$LIST"
}
# HAProxy finds this container by name (DNS) and a challenge it cannot forward fails at once
# (Pebble and Let's Encrypt validate without delay): wait until its acme server has an address.
proxy_sees_us() { printf 'show stat\\n' | api | grep '^acme,' | grep -v ',BACKEND,' | cut -d, -f18 | grep -qv 'MAINT'; }
wait_for_proxy() {
  i=0
  while [ $i -lt ${PROXY_WAIT_SECONDS} ]; do
    proxy_sees_us && return 0
    sleep 1; i=$((i + 1))
  done
  log "the proxy's acme backend has no address for this container after ${PROXY_WAIT_SECONDS} s; trying anyway"
}
trap 'exit 0' TERM INT
# SIGHUP (docker kill -s HUP): a pass now, e.g. after gangway added a name to the list.
SLEEPER=
trap '[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null' HUP
mkdir -p "$CERTS"
wait_for_proxy
${RETRY_DELAY_FUNCTION}
FAILS=0
while :; do
  FAILED=no
  pass
  # A failure is tried again soon, then less and less often (a missing certificate should not
  # wait N hours, nor a CA be asked every two minutes for a name it keeps refusing).
  delay=$ACME_EVERY_SECONDS
  if [ "$FAILED" = yes ]; then
    FAILS=$((FAILS + 1))
    retry=$(retry_delay "$FAILS")
    [ "$delay" -gt "$retry" ] && delay=$retry
    log "a name failed: next pass in $delay s (failed passes in a row: $FAILS)"
  else
    FAILS=0
  fi
  sleep "$delay" &
  SLEEPER=$!
  wait "$SLEEPER"
done
`;
}
