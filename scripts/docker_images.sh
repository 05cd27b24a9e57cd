#!/usr/bin/env bash
# Builds the project's images: server:latest, client:latest and
# tp0-netcat:latest (for validar-echo-server.sh).
#
#   scripts/docker_images.sh [compiled|airgapped|auto]     (default: $IMAGES or auto)
#
# compiled:  server/Dockerfile / client/Dockerfile: `deno compile` in a build
#            stage, distroless runtime. Needs a container registry and
#            dl.deno.land.
# airgapped: FROM scratch images assembled from this host: its Deno (from the
#            npm registry), the libraries it links, the application and its
#            npm dependencies, and Debian's static BusyBox for netcat. Needs
#            neither a registry nor dl.deno.land.
# auto:      compiled when the registry answers, otherwise airgapped, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-${IMAGES:-auto}}
DENO_IMAGE=${DENO_IMAGE:-denoland/deno:debian-2.9.6}

build_compiled() {
  docker build -f server/Dockerfile -t server:latest .
  docker build -f client/Dockerfile -t client:latest .
  docker build -f docker/netcat.Dockerfile -t tp0-netcat:latest docker
}

build_airgapped() {
  local deno_bin busybox_bin ctx lib
  deno_bin=$(readlink -f "$(command -v deno)") || {
    echo "Cannot build air-gapped images: deno is not installed (npm install -g deno@2.9.6)" >&2
    exit 1
  }
  busybox_bin=$(command -v busybox || true)
  if [ -z "$busybox_bin" ] || ldd "$busybox_bin" >/dev/null 2>&1; then
    echo "Cannot build the air-gapped netcat image: no static busybox (apt-get install busybox-static)" >&2
    exit 1
  fi
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/app" "$ctx/rootfs/etc" "$ctx/writable" "$ctx/deno-dir"
  cp "$deno_bin" "$ctx/rootfs/usr/bin/deno"
  for lib in $(ldd "$deno_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$ctx/rootfs/etc/group"
  cp deno.json deno.lock mod.ts "$ctx/rootfs/app/"
  for dir in lib protocol server agency; do
    mkdir -p "$ctx/rootfs/app/$dir"
    find "$dir" -name '*.ts' ! -name '*_test.ts' -exec cp --parents {} "$ctx/rootfs/app/" \;
  done
  # The npm dependencies, fetched into the image's own Deno cache.
  (cd "$ctx/rootfs/app" && DENO_DIR="$ctx/deno-dir" deno cache --quiet --config deno.json server/main.ts server/store/draw_worker.ts agency/main.ts)
  cp -L "$busybox_bin" "$ctx/busybox"
  docker build -f docker/server.airgapped.Dockerfile -t server:latest "$ctx"
  docker build -f docker/agency.airgapped.Dockerfile -t client:latest "$ctx"
  docker build -f docker/netcat.airgapped.Dockerfile -t tp0-netcat:latest "$ctx"
}

case "$mode" in
  compiled) build_compiled ;;
  airgapped) build_airgapped ;;
  auto)
    if timeout 30 docker pull -q "$DENO_IMAGE" >/dev/null 2>&1; then
      build_compiled
    else
      echo "note: the container registry is not reachable: building the air-gapped images (FROM scratch, this host's Deno) instead" >&2
      build_airgapped
    fi
    ;;
  *)
    echo "usage: $0 [compiled|airgapped|auto]" >&2
    exit 2
    ;;
esac
echo "images: server:latest client:latest tp0-netcat:latest ($mode)"
