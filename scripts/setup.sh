#!/usr/bin/env bash
# Sets up a fresh machine that has node, npm and cargo: installs pnpm, the workspace's
# dependencies, builds every package (the native addon from source), then runs the
# `keel torture all` as the demo. Where apt is available it also installs the Debian
# packages of the one-node Ceph that the tiered-storage tests run against. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  # corepack's signature check is not reliable everywhere; npm can always install pnpm.
  npm install --global "pnpm@${PNPM_VERSION}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is required to build @keel/native (install Rust from rustup)" >&2; exit 1; }

# Native peers of the benchmarks build from source when no prebuilt binary can be had;
# point node-gyp at the local Node headers when the system has them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi

bash scripts/ceph/install.sh
pnpm install --frozen-lockfile
pnpm build
if [ "${KEEL_SKIP_DEMO:-}" != "1" ]; then
  # The demo: every backend's writer SIGKILLed at random moments, nothing acknowledged lost.
  pnpm keel torture all --rounds 3
fi
