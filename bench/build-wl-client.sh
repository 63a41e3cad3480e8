#!/usr/bin/env bash
# Builds bench/wl-client.c into OUTDIR/wl-client (xdg-shell glue generated beside it): the one recipe for the bench's
# native baseline (bench/run.sh) and the copy in the wayland initramfs (images/build-wayland.sh), so both time the
# same code. Needs gcc and libwayland-dev (wayland-scanner, the client library); xdg-shell.xml is the repo's pinned copy.
#   bench/build-wl-client.sh OUTDIR
set -euo pipefail
(($# == 1)) || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
xdg="$(dirname "${BASH_SOURCE[0]}")/../src/MiniVmm.Wayland/protocols/xdg-shell.xml"
mkdir -p "$out"
wayland-scanner client-header "$xdg" "$out/xdg-shell-client-protocol.h"
wayland-scanner private-code "$xdg" "$out/xdg-shell-protocol.c"
gcc -O2 -Wall -Wextra -I"$out" -o "$out/wl-client" "$(dirname "${BASH_SOURCE[0]}")/wl-client.c" "$out/xdg-shell-protocol.c" -lwayland-client
