// `setup --dry-run` as data: the lines it prints per host, and the hosts where setup would stop.
import { describe, expect, it } from 'vitest';
import { describeSetupPlan } from '../../src/provision/setup-plan.js';

describe('describeSetupPlan', () => {
  const plan = describeSetupPlan({
    image: 'registry:5000/hello:1.0.0',
    engines: [
      { host: 'vm1', local: false, plan: { kind: 'ready' } },
      { host: 'vm2', local: false, plan: { kind: 'steps', steps: ['install', 'start', 'grant'], privilege: 'sudo' } },
      { host: 'vm3', local: false, plan: { kind: 'refused', reason: 'Docker is not installed, and bob is not root and has no passwordless sudo', hint: 'as root on the host: ...' } },
      { host: 'localhost', local: true },
    ],
    accessories: [
      { name: 'db', host: 'vm1', container: 'hello-db', state: 'running' },
      { name: 'kv', host: 'vm1', container: 'hello-kv', state: 'stopped' },
      { name: 'kv', host: 'vm2', container: 'hello-kv', state: 'unknown' },
      { name: 'q', host: 'vm1', container: 'hello-q', state: 'missing' },
    ],
    deploy: ['then deploy registry:5000/hello:1.0.0', '[vm1 web] fresh: pull -> ...'],
  });

  it('one line per host and accessory, then the deploy plan', () => {
    expect(plan.lines).toEqual([
      'setup registry:5000/hello:1.0.0',
      '[vm1] docker: ready',
      '[vm2] docker: install -> start -> grant (with sudo)',
      '[vm3] docker: setup would stop: Docker is not installed, and bob is not root and has no passwordless sudo',
      '[localhost] docker: the local engine (gangway installs nothing on the machine it runs on)',
      '[vm1] accessory db: hello-db runs; left as it is',
      '[vm1] accessory kv: hello-kv stopped; start it',
      '[vm2] accessory kv: hello-kv create and start (once Docker answers)',
      '[vm1] accessory q: hello-q create and start',
      'then deploy registry:5000/hello:1.0.0',
      '[vm1 web] fresh: pull -> ...',
    ]);
  });

  it('names the hosts where the real setup would stop, with the hint', () => {
    expect(plan.refused).toEqual([{ host: 'vm3', reason: 'Docker is not installed, and bob is not root and has no passwordless sudo', hint: 'as root on the host: ...' }]);
  });
});
