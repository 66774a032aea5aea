// service: which manager answers is decided once per script (systemd only where it is PID 1's
// manager: /run/systemd/system exists); each check then asks it about its own service, under
// `timeout` where the host has it, since an init script's `status` is arbitrary shell.
import type { ServiceSpec } from '../resources/service.js';
import { q, type Probe } from './probe.js';

const STATUS_TIMEOUT_S = 10;

export const serviceProbe: Probe<ServiceSpec> = {
  type: 'service',
  prelude: () => [
    'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then _svm=systemd',
    'elif [ -d /etc/init.d ]; then _svm=sysv; else _svm=; fi',
    `_svt=; command -v timeout >/dev/null 2>&1 && _svt="timeout ${STATUS_TIMEOUT_S}"`,
  ].join('\n'),
  shell(spec) {
    const unit = q(spec.service);
    const script = q(spec.service.replace(/\.service$/, ''));
    const wantsEnabled = spec.enabled !== undefined;
    return [
      'case $_svm in',
      'systemd)',
      `  st=$(systemctl is-active ${unit} 2>/dev/null); [ "$st" = active ] && r=true || r=false`,
      `  printf '{"manager":"systemd","running":%s,"state":' "$r"; _s "$st"`,
      ...(wantsEnabled ? [`  en=$(systemctl is-enabled ${unit} 2>/dev/null) && e=true || e=false; printf ',"enabled":%s,"enabled_state":' "$e"; _s "$en"`] : []),
      "  printf '}';;",
      'sysv)',
      `  if [ -x /etc/init.d/${script} ]; then`,
      `    $_svt /etc/init.d/${script} status >/dev/null 2>&1 </dev/null && r=true || r=false`,
      `    printf '{"manager":"init.d","running":%s' "$r"`,
      ...(wantsEnabled ? [`    e=false; for l in /etc/rc[2345].d/S[0-9][0-9]${script}; do [ -e "$l" ] && e=true; done; printf ',"enabled":%s' "$e"`] : []),
      "    printf '}'",
      `  else printf '%s' '{"manager":"init.d","running":false,"enabled":false,"state":"no /etc/init.d script"}'; fi;;`,
      "*) printf '%s' '{\"manager\":null}';;",
      'esac',
    ].join('\n');
  },
};
