#!/usr/bin/env bash
# Where images/build.sh puts its outputs. Two ways to use it:
#   . images/paths.sh              # defines MINIVMM_IMAGES and MINIVMM_* path variables
#   images/paths.sh small-kernel   # prints one path; no argument prints all as name=path
#   images/paths.sh tree-initramfs DIR   # the initramfs for kernel build tree DIR with its modules;
#                                  # exit 1, printing nothing, when DIR was built without modules
# Keep this file free of side effects: it is sourced by other tools.

MINIVMM_IMAGES="${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/images"
MINIVMM_INITRAMFS="$MINIVMM_IMAGES/initramfs/initramfs.cpio"
MINIVMM_SMALL_KERNEL="$MINIVMM_IMAGES/small-6.1/bzImage"
MINIVMM_SMALL_VMLINUX="$MINIVMM_IMAGES/small-6.1/vmlinux"
MINIVMM_SMALL_CONFIG="$MINIVMM_IMAGES/small-6.1/config"
MINIVMM_DEBIAN_KERNEL="$MINIVMM_IMAGES/debian-6.1/vmlinuz"
MINIVMM_DEBIAN_INITRAMFS="$MINIVMM_IMAGES/debian-6.1/initramfs.cpio"
MINIVMM_WAYLAND_INITRAMFS="$MINIVMM_IMAGES/initramfs-wayland/initramfs.cpio"

# minivmm_tree_has_modules DIR: the build tree was built with modules (a non-empty modules.order,
# or CONFIG_MODULES=y in its .config).
minivmm_tree_has_modules() {
  [[ -s "$1/modules.order" ]] || grep -qx 'CONFIG_MODULES=y' "$1/.config" 2>/dev/null
}

# minivmm_tree_initramfs DIR: where images/build-tree.sh puts DIR's initramfs (the default one + DIR's
# modules), one cache directory per tree (its name and a hash of its absolute path); status 1 when
# DIR has no modules, so the default initramfs is booted as it is.
minivmm_tree_initramfs() {
  local tree
  tree="$(realpath "$1")" && minivmm_tree_has_modules "$tree" || return 1
  echo "$MINIVMM_IMAGES/tree/${tree##*/}-$(printf %s "$tree" | sha256sum | cut -c1-12)/initramfs.cpio"
}

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
    tree-initramfs) [[ -n "${2:-}" ]] || return 2; minivmm_tree_initramfs "$2" ;;
    *) return 2 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  names=(cache initramfs small-kernel small-vmlinux small-config debian-kernel debian-initramfs
    wayland-initramfs)
  if (($# == 0)); then
    for n in "${names[@]}"; do echo "$n=$(minivmm_image_path "$n")"; done
  else
    status=0
    minivmm_image_path "$@" || status=$?
    if ((status == 2)); then
      (IFS='|'; echo "usage: $0 [${names[*]}|tree-initramfs DIR]" >&2)
    fi
    exit "$status"
  fi
fi
