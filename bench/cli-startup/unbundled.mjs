// The CLI as tsc compiled it (dist/cli/), not bundled: what bin/gangway.js ran before
// scripts/bundle-cli.mjs, measured beside it by bench/cli-startup.
const { main } = await import('../../dist/cli/main.js');
process.exitCode = await main(process.argv);
