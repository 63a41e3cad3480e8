#!/usr/bin/env bash
# Builds $MINIVMM_IMAGES/initramfs/initramfs.cpio: busybox-static + initramfs/init, uncompressed.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/initramfs.sh
. "$IMAGES_DIR/lib/initramfs.sh"

out="$MINIVMM_IMAGES/initramfs"

stamp_hash() {
  inputs_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/lib/common.sh" "$IMAGES_DIR/lib/initramfs.sh" \
    "$INIT_SCRIPT" -- "busybox-static=$(pkg_version busybox-static)" "cpio=$(pkg_version cpio)"
}

hash="$(stamp_hash)"
if is_fresh "$out" "$hash" initramfs.cpio; then
  log "initramfs: up to date"
  exit 0
fi
need_pkgs "${INITRAMFS_PKGS[@]}"
hash="$(stamp_hash)"
mkdir -p "$out"
log "initramfs: stage busybox + init"
initramfs_stage "$out/root"
log "initramfs: pack initramfs.cpio"
rm -f "$out/.stamp"
initramfs_pack "$out/root" "$out/initramfs.cpio"
rm -rf "$out/root"
write_stamp "$out" "$hash"
