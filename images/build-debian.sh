#!/usr/bin/env bash
# Fetches the stock Debian 6.1 kernel (the linux-image-6.1.0-*-amd64 that linux-image-amd64
# depends on) with apt-get download + dpkg-deb -x (never installed into /boot), and builds an
# initramfs = busybox initramfs + the virtio-pci and virtio-gpu module chain in load order.
# Outputs $MINIVMM_IMAGES/debian-6.1/{vmlinuz,initramfs.cpio,config,modules.txt}.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/initramfs.sh
. "$IMAGES_DIR/lib/initramfs.sh"

out="$MINIVMM_IMAGES/debian-6.1"
work="$MINIVMM_IMAGES/work/debian-6.1"
outputs=(vmlinuz initramfs.cpio config modules.txt)
# Modules wanted in the guest; their dependencies are found with modinfo and loaded first.
root_modules=(virtio_pci virtio_gpu)

# image_pkg: the concrete kernel package the linux-image-amd64 metapackage depends on.
image_pkg() {
  local p
  p="$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)"
  if [[ -z "$p" ]] && ((EUID == 0 && !_apt_updated)); then
    apt_update_once
    p="$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)"
  fi
  [[ -n "$p" ]] || die "debian-6.1: cannot resolve linux-image-amd64 (apt-cache depends found nothing)"
  echo "$p"
}

stamp_hash() {
  inputs_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/lib/common.sh" "$IMAGES_DIR/lib/initramfs.sh" \
    "$INIT_SCRIPT" -- "$kpkg=$(pkg_version "$kpkg")" "${root_modules[*]}" \
    "busybox-static=$(pkg_version busybox-static)" "cpio=$(pkg_version cpio)"
}

kpkg="$(image_pkg)"
hash="$(stamp_hash)"
if is_fresh "$out" "$hash" "${outputs[@]}"; then
  log "debian-6.1: up to date ($kpkg)"
  exit 0
fi
need_pkgs "${INITRAMFS_PKGS[@]}" kmod xz-utils
hash="$(stamp_hash)"
kver="$(pkg_version "$kpkg")"
[[ -n "$kver" ]] || die "debian-6.1: apt knows no version of $kpkg"

rm -rf "$work" && mkdir -p "$work/deb"
log "debian-6.1: apt-get download $kpkg=$kver"
(cd "$work/deb" && apt-get download -qq "$kpkg=$kver" 2>"$work/download.log") \
  || { cat "$work/download.log" >&2; die "debian-6.1: apt-get download $kpkg failed"; }
log "debian-6.1: dpkg-deb -x"
dpkg-deb -x "$work"/deb/*.deb "$work/x"
mroot="$(echo "$work"/x/lib/modules/*)"
krel="${mroot##*/}"
[[ -d "$mroot/kernel" && -f "$work/x/boot/vmlinuz-$krel" ]] || die "debian-6.1: unexpected layout in $kpkg"

# Map module name (dashes as underscores) -> .ko file, then walk modinfo's depends depth-first
# so every module comes after the modules it needs.
declare -A kofile=() seen=()
order=()
while IFS= read -r -d '' f; do
  n="${f##*/}" && n="${n%%.ko*}"
  kofile["${n//-/_}"]="$f"
done < <(find "$mroot/kernel" -name '*.ko*' -print0)
visit() {
  local n="${1//-/_}" f d deps
  [[ -n "${seen[$n]:-}" ]] && return 0
  seen[$n]=1
  f="${kofile[$n]:-}"
  [[ -n "$f" ]] || die "debian-6.1: module $n not found in $kpkg"
  deps="$(modinfo -F depends "$f")"
  IFS=, read -r -a deps <<<"$deps"
  for d in "${deps[@]}"; do [[ -z "$d" ]] || visit "$d"; done
  order+=("$n")
}
for m in "${root_modules[@]}"; do visit "$m"; done
log "debian-6.1: modules ${order[*]}"

log "debian-6.1: stage busybox + init + modules"
stage="$work/root"
initramfs_stage "$stage"
mkdir -p "$stage/lib/modules/$krel"
for n in "${order[@]}"; do
  f="${kofile[$n]}" && base="${f##*/}"
  case "$f" in
    *.ko) cp "$f" "$stage/lib/modules/$krel/$base" ;;
    *.ko.xz) base="${base%.xz}" && xz -dc "$f" >"$stage/lib/modules/$krel/$base" ;;
    *) die "debian-6.1: unsupported module compression: $f" ;;
  esac
  echo "$base" >>"$stage/etc/minivmm-modules"
done

log "debian-6.1: pack initramfs.cpio"
mkdir -p "$work/out"
initramfs_pack "$stage" "$work/out/initramfs.cpio"
cp "$work/x/boot/vmlinuz-$krel" "$work/out/vmlinuz"
cp "$work/x/boot/config-$krel" "$work/out/config"
cp "$stage/etc/minivmm-modules" "$work/out/modules.txt"
install_outputs "$work/out" "$out" "${outputs[@]}"
write_stamp "$out" "$hash"
rm -rf "$work"
log "debian-6.1: built $krel"
