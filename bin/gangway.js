#!/usr/bin/env node
// Entry point: the compiled CLI, bundled, lives in dist/bundle/ (npm run build; see
// scripts/bundle-cli.mjs for why it is bundled).

// docker-modem's debug log (DEBUG=modem, or a wildcard that matches it) prints every Engine API
// request and answer, container inspections with their environment, secrets included: its
// namespace stays off whatever DEBUG says. Set before the CLI (and the `debug` package with it) loads.
if (process.env.DEBUG) process.env.DEBUG = `${process.env.DEBUG},-modem`;

const { main } = await import('../dist/bundle/main.js');

// A closed pipe (`gangway --json status | head`) is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw err; });
}

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 1; },
);
