// The restart policy of everything gangway keeps running on a host: app containers while they
// serve, the proxy, accessories.
//
// `always`, not `unless-stopped`: when dockerd dies uncleanly (SIGKILL, OOM), Docker 20.10 marks
// its containers exited as if stopped by hand, and `unless-stopped` then leaves the host serving
// nothing (moby/moby#36496); `always` brings them back. The difference `unless-stopped` exists for
// (a container stopped on purpose stays stopped) is kept by stopContainer, which sets the policy
// of a container it retires to `no` before stopping it.
export const KEEP_RUNNING = { Name: 'always' } as const;
export const STAY_STOPPED = { Name: 'no' } as const;
