#!/usr/bin/env bash
# MiniVmm guest images, built from Debian packages into a cache outside git.
#   images/build.sh [all|initramfs|small|debian|wayland]   (default all = initramfs + small)
# wayland (the initramfs with the NativeAOT guest Wayland proxy) is never part of all.
# Cache: ${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/images (see paths.sh).
# Each step is a no-op when its stamp matches its inputs. Prints the produced paths on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=paths.sh
. "$here/paths.sh"

usage() { echo "usage: $0 [all|initramfs|small|debian|wayland]"; }

case "${1:-all}" in
  all) steps=(initramfs small) ;;
  initramfs | small | debian | wayland) steps=("$1") ;;
  -h | --help) usage && exit 0 ;;
  *) usage >&2 && exit 2 ;;
esac

for step in "${steps[@]}"; do "$here/build-$step.sh"; done

for step in "${steps[@]}"; do
  case "$step" in
    initramfs) names=(initramfs) ;;
    small) names=(small-kernel small-vmlinux small-config) ;;
    debian) names=(debian-kernel debian-initramfs) ;;
    wayland) names=(wayland-initramfs) ;;
  esac
  for n in "${names[@]}"; do echo "$n: $(minivmm_image_path "$n")"; done
done
