// service: a system service by its manager's own answer — systemd where it runs, else the
// /etc/init.d script's `status` (sysvinit, and hosts without an init such as containers).
import { z } from 'zod';
import { expectation, itemSchema, text, type Resource } from './resource.js';

const serviceSchema = itemSchema(
  'service',
  z.string().min(1).regex(/^[A-Za-z0-9@._:-]+$/, { message: 'expected a service name such as ssh or ssh.service' }).describe('A systemd unit (ssh, ssh.service) or an /etc/init.d script name.'),
  {
    running: z.boolean().default(true),
    enabled: z.boolean().optional().describe('Started at boot: `systemctl is-enabled` succeeds, or an S link in /etc/rc[2-5].d.'),
  },
);
export type ServiceSpec = z.output<typeof serviceSchema>;

export const serviceResource: Resource<ServiceSpec> = {
  type: 'service',
  schema: serviceSchema,
  description: 'A system service (systemd unit or /etc/init.d script): running, enabled.',
  subject: (s) => s.service,
  evaluate(spec, facts) {
    const manager = text(facts.manager);
    if (!manager) return [expectation('service manager', 'systemd or /etc/init.d', 'neither on this host', false)];
    const running = facts.running === true;
    const state = text(facts.state);
    const shown = `${running ? 'running' : 'not running'}${state ? ` (${manager}: ${state})` : ` (${manager})`}`;
    const out = [expectation('running', spec.running ? 'running' : 'not running', shown, running === spec.running)];
    if (spec.enabled !== undefined) {
      const enabled = facts.enabled === true;
      const enabledState = text(facts.enabled_state);
      out.push(expectation('enabled', spec.enabled ? 'enabled' : 'not enabled', `${enabled ? 'enabled' : 'not enabled'}${enabledState ? ` (${enabledState})` : ''}`, enabled === spec.enabled));
    }
    return out;
  },
};
