#!/usr/bin/env bash
# Installs the Debian packages ktrdrd needs to build and run (with --test: and to run the tests). Idempotent: does nothing
# when everything is present. Needs root (or sudo) only when something is missing.
set -euo pipefail
# What building and running need: libsqlite3-dev, libzstd-dev (result files), libtorch-dev (the
# torch model plugin, C++), libopenblas0-openmp (without it Debian's libtorch runs on the
# reference BLAS: inference 5x slower, measured; training is deterministic for a given BLAS, and
# the shipped model was trained with this one), curl.
packages=(libsqlite3-dev libzstd-dev libtorch-dev libopenblas0-openmp curl)
# With --test, what only the test suite needs: python3-torch cross-checks TorchScript files
# (it alone pulls about 190 packages, so the quickstart does not install it), jsonschema and
# prometheus-client check the API's answers, iproute2 puts workers in network namespaces.
if [ "${1:-}" = "--test" ]; then
  packages+=(python3 python3-numpy python3-jsonschema python3-yaml python3-prometheus-client python3-venv iproute2 python3-torch)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ "${CI:-}" != "true" ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH; install a Swift 6 toolchain (https://swift.org/install) first" >&2
  exit 1
fi
