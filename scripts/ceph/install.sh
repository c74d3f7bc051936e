#!/usr/bin/env bash
# Installs the Debian packages that boot a single-node Ceph with an S3 gateway, which the
# tiered-storage tests run against (scripts/ceph/cluster.mjs starts it). Quiet and safe to
# run again: it does nothing when the daemons are already on PATH.
#
# Where apt is not available (or we are not root), it says so in one line and succeeds;
# those tests then report that they did not run, except under CI, where their absence
# fails the run. Under CI a failed apt-get fails this script too.
set -euo pipefail

PACKAGES=(ceph-mon ceph-osd radosgw ceph-common)
COMMANDS=(monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph)

missing=()
for command in "${COMMANDS[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

skip() {
  echo "ceph: not installed ($1); the tiered-storage tests will not run here" >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || skip "no apt-get on this machine"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  skip "installing needs root"
fi

started=$SECONDS
install_packages() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${PACKAGES[@]}" >/dev/null
}
if ! install_packages; then
  [ -n "${CI:-}" ] && { echo "ceph: apt-get could not install ${PACKAGES[*]}" >&2; exit 1; }
  skip "apt-get could not install ${PACKAGES[*]}"
fi
echo "ceph: installed ${PACKAGES[*]} in $((SECONDS - started)) s"
