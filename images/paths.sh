#!/usr/bin/env bash
# Where images/build.sh puts its outputs. Two ways to use it:
#   . images/paths.sh              # defines MINIVMM_IMAGES and MINIVMM_* path variables
#   images/paths.sh small-kernel   # prints one path; no argument prints all as name=path
# Keep this file free of side effects: it is sourced by other tools.

MINIVMM_IMAGES="${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/images"
MINIVMM_INITRAMFS="$MINIVMM_IMAGES/initramfs/initramfs.cpio"
MINIVMM_SMALL_KERNEL="$MINIVMM_IMAGES/small-6.1/bzImage"
MINIVMM_SMALL_VMLINUX="$MINIVMM_IMAGES/small-6.1/vmlinux"
MINIVMM_SMALL_CONFIG="$MINIVMM_IMAGES/small-6.1/config"
MINIVMM_DEBIAN_KERNEL="$MINIVMM_IMAGES/debian-6.1/vmlinuz"
MINIVMM_DEBIAN_INITRAMFS="$MINIVMM_IMAGES/debian-6.1/initramfs.cpio"
MINIVMM_WAYLAND_INITRAMFS="$MINIVMM_IMAGES/initramfs-wayland/initramfs.cpio"

minivmm_image_path() {
  case "$1" in
    cache) echo "$MINIVMM_IMAGES" ;;
    initramfs) echo "$MINIVMM_INITRAMFS" ;;
    small-kernel) echo "$MINIVMM_SMALL_KERNEL" ;;
    small-vmlinux) echo "$MINIVMM_SMALL_VMLINUX" ;;
    small-config) echo "$MINIVMM_SMALL_CONFIG" ;;
    debian-kernel) echo "$MINIVMM_DEBIAN_KERNEL" ;;
    debian-initramfs) echo "$MINIVMM_DEBIAN_INITRAMFS" ;;
    wayland-initramfs) echo "$MINIVMM_WAYLAND_INITRAMFS" ;;
    *) return 1 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  names=(cache initramfs small-kernel small-vmlinux small-config debian-kernel debian-initramfs
    wayland-initramfs)
  if (($# == 0)); then
    for n in "${names[@]}"; do echo "$n=$(minivmm_image_path "$n")"; done
  elif ! minivmm_image_path "$1"; then
    (IFS='|'; echo "usage: $0 [${names[*]}]" >&2)
    exit 2
  fi
fi
