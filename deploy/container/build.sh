#!/usr/bin/env bash
# Builds the engine's container image from deploy/container/Containerfile:
# compiles the release binary, gathers it with the shared libraries `ldd`
# names and the configuration templates into a build context, and runs
# `buildah bud` (Docker format, which keeps the HEALTHCHECK).
#
#   bash deploy/container/build.sh [TAG]      (default localhost/foxtrot:latest)
#   FOXTROT_BIN=path/to/foxtrot bash deploy/container/build.sh TAG   (that binary instead)
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-localhost/foxtrot:latest}"
bin="${FOXTROT_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p foxtrot-tools
  bin=target/release/foxtrot
fi
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/foxtrot" "$ctx/rootfs/tmp" "$ctx/state"
cp "$bin" "$ctx/rootfs/usr/local/bin/foxtrot"
# The dynamic loader and every library the binary links, at their own paths.
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
cp configs/*.yaml "$ctx/rootfs/etc/foxtrot/"
chmod 1777 "$ctx/rootfs/tmp"
cp deploy/container/Containerfile "$ctx/"
buildah bud --format docker --quiet --tag "$tag" --file "$ctx/Containerfile" "$ctx"
echo "built $tag"
