// Builds (or finds cached) the local images the demo needs where no registry can be reached,
// and prints them as shell assignments for scripts/demo.sh to eval.
import Docker from 'dockerode';
import { ensureBusyboxImage, ensureHaproxyImage } from '../dist/sandbox/index.js';
import { Events } from '../dist/events/events.js';

const docker = new Docker();
const events = new Events();
events.on((e) => { if (e.type === 'step' && e.status !== 'start') process.stderr.write(`image ${e.step} ${e.status} ${e.message ?? ''}\n`); });
const busybox = await ensureBusyboxImage(docker, events);
const proxy = await ensureHaproxyImage(docker, events);
console.log(`export GANGWAY_BUSYBOX_IMAGE=${busybox.tag}`);
console.log(`export GANGWAY_PROXY_IMAGE=${proxy.tag}`);
