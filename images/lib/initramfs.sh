# shellcheck shell=bash
# Builds the busybox initramfs tree and packs it as an uncompressed newc cpio. Sourced by
# build-initramfs.sh and build-debian.sh, after lib/common.sh.

# shellcheck disable=SC2034 # used by the scripts that source this file
INITRAMFS_PKGS=(busybox-static cpio fakeroot)
INIT_SCRIPT="$IMAGES_DIR/initramfs/init"

# initramfs_stage DIR: fresh tree with /bin/busybox, /bin/sh, /init and the empty mount points.
initramfs_stage() {
  local dir="$1"
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,dev,etc,proc,sys,tmp,root}
  cp /bin/busybox "$dir/bin/busybox"
  ln -s busybox "$dir/bin/sh"
  install -m 755 "$INIT_SCRIPT" "$dir/init"
}

# initramfs_pack DIR OUT: add /dev/console (c 5 1) and /dev/null (c 1 3), write OUT. fakeroot
# makes the device nodes and root ownership without needing root.
initramfs_pack() {
  local dir="$1" out="$2"
  # shellcheck disable=SC2016 # expanded by the inner sh
  fakeroot -- sh -c '
    set -e
    cd "$1"
    mknod -m 600 dev/console c 5 1
    mknod -m 666 dev/null c 1 3
    find . -mindepth 1 -printf "%P\n" | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
  ' sh "$dir" >"$out.tmp"
  mv -f "$out.tmp" "$out"
}
