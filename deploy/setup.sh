#!/usr/bin/env bash
# Installs every build, test and run dependency of proofmesh from Debian 12 packages.
# Idempotent: it asks dpkg what is present and installs only what is missing, so a second run is
# a no-op that takes well under a second. Nothing is downloaded from outside Debian's registry.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libcaf-dev
  libzmq3-dev cppzmq-dev libsodium-dev
  libflatbuffers-dev flatbuffers-compiler
  libhiredis-dev redis-server
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libboost-dev libspdlog-dev libfmt-dev libcli11-dev
  libpcre2-dev libicu-dev
  libssl-dev ca-certificates openssl
  libjs-katex chromium chromium-driver
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
