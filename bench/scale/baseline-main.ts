// The bare baseline as its own process, as a user's straight-line script would run: started by
// `node`, it loads what it needs (dockerode, ssh2 and the few modules it shares with gangway, in
// one bundle: see baseline-process.ts), deploys, prints its result as one JSON line and exits.
// Its times count from its own process start, as gangway's `timing` event does.
// Input: one argument, a JSON file {info, names, image, name}.
import { readFileSync } from 'node:fs';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { bareDeploy } from './baseline.js';

interface Input { info: SandboxInfo; names: string[]; image: string; name: string }

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
// From the process's start (Node's own start-up included), not from the first connection.
const origin = performance.timeOrigin;
const startedAt = Date.now();
const bare = await bareDeploy(input.info, input.names, input.image, input.name);
const sinceOrigin = (sinceStart: number) => Math.round(startedAt - origin + sinceStart);
process.stdout.write(`${JSON.stringify({ timeToLiveMs: sinceOrigin(bare.timeToLiveMs), totalMs: sinceOrigin(bare.totalMs), inProcess: { timeToLiveMs: bare.timeToLiveMs, totalMs: bare.totalMs }, stats: Object.fromEntries(bare.stats), steps: bare.steps })}\n`);
