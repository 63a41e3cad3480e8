#!/usr/bin/env bash
# Builds the small test kernel from Debian's linux-source-6.1: tinyconfig + kernel/minivmm.config,
# with kernel/patches/*.patch applied in name order (test-kernel workarounds; see each patch's header).
# Outputs $MINIVMM_IMAGES/small-6.1/{bzImage,vmlinux,config}; the source tree is kept in
# $MINIVMM_IMAGES/work/small-6.1 for incremental rebuilds (safe to delete).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

out="$MINIVMM_IMAGES/small-6.1"
work="$MINIVMM_IMAGES/work/small-6.1"
src="$work/linux-source-6.1"
blog="$out/build.log"
frag="$IMAGES_DIR/kernel/minivmm.config"
patches=("$IMAGES_DIR"/kernel/patches/*.patch)
[[ -e "${patches[0]}" ]] || patches=()
pkgs=(linux-source-6.1 build-essential flex bison libelf-dev bc libssl-dev xz-utils patch)
outputs=(bzImage vmlinux config)
kmake=(make -C "$src" ARCH=x86_64 KBUILD_BUILD_USER=minivmm KBUILD_BUILD_HOST=minivmm)

stamp_hash() {
  inputs_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/lib/common.sh" "$frag" "${patches[@]}" -- \
    "linux-source-6.1=$(pkg_version linux-source-6.1)" "gcc=$(pkg_version gcc)" \
    "binutils=$(pkg_version binutils)"
}

# logged STEP CMD...: run CMD with output appended to the build log; on failure show its tail.
logged() {
  local step="$1"
  shift
  log "small-6.1: $step"
  if ! "$@" >>"$blog" 2>&1; then
    tail -n 40 "$blog" >&2
    die "small-6.1: $step failed (full log: $blog)"
  fi
}

# check_fragment: every option the fragment sets survived olddefconfig (and none it unsets is on).
check_fragment() {
  local line opt bad=()
  while IFS= read -r line; do
    if [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)=y$ ]]; then
      opt="${BASH_REMATCH[1]}"
      grep -qx "$opt=y" "$src/.config" || bad+=("$opt=y")
    elif [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      opt="${BASH_REMATCH[1]}"
      grep -qE "^$opt=[ym]$" "$src/.config" && bad+=("$opt off")
    fi
  done <"$frag"
  ((${#bad[@]} == 0)) || die "small-6.1: fragment options lost after olddefconfig (missing dependency?): ${bad[*]}"
}

hash="$(stamp_hash)"
if is_fresh "$out" "$hash" "${outputs[@]}"; then
  log "small-6.1: up to date"
  exit 0
fi
need_pkgs "${pkgs[@]}"
hash="$(stamp_hash)"
mkdir -p "$out" "$work"
: >"$blog"

srcver="linux-source-6.1=$(pkg_version linux-source-6.1)"
if [[ ! -f "$work/.source" || "$(<"$work/.source")" != "$srcver" ]]; then
  tarball="$(dpkg -L linux-source-6.1 | grep -m1 -E '^/usr/src/linux-source-6\.1\.tar\.(xz|bz2|gz)$')" \
    || die "small-6.1: no source tarball in package linux-source-6.1"
  rm -rf "$work" && mkdir -p "$work"  # also drops $work/applied: the new tree is pristine
  logged "unpack $tarball" tar -xf "$tarball" -C "$work"
  echo "$srcver" >"$work/.source"
fi

# apply_patches: bring the tree to pristine + kernel/patches. The copies in $work/applied say what
# the tree carries; when they differ from the repo's set, they are reversed (newest first) and the
# new set applied, so only the patched files are rebuilt.
apply_patches() {
  local applied="$work/applied" p i same=1
  local old=("$applied"/*.patch)
  [[ -e "${old[0]}" ]] || old=()
  ((${#old[@]} == ${#patches[@]})) || same=0
  for i in "${!patches[@]}"; do ((same)) && cmp -s "${old[i]}" "${patches[i]}" || same=0; done
  ((same)) && return 0
  for ((i = ${#old[@]} - 1; i >= 0; i--)); do
    logged "reverse ${old[i]##*/}" patch -d "$src" -p1 -R --forward -i "${old[i]}"
    rm -f "${old[i]}"
  done
  mkdir -p "$applied"
  for p in "${patches[@]}"; do
    logged "apply kernel/patches/${p##*/}" patch -d "$src" -p1 --forward -i "$p"
    cp "$p" "$applied/"
  done
}

apply_patches
logged "make tinyconfig" "${kmake[@]}" tinyconfig
# shellcheck disable=SC2016 # expanded by the inner bash
logged "merge kernel/minivmm.config" \
  bash -c 'cd "$1" && scripts/kconfig/merge_config.sh -m .config "$2"' _ "$src" "$frag"
logged "make olddefconfig" "${kmake[@]}" olddefconfig
check_fragment
logged "make -j$(nproc) bzImage (log: $blog)" "${kmake[@]}" -j"$(nproc)" bzImage

tmp="$work/out" && rm -rf "$tmp" && mkdir -p "$tmp"
cp "$src/arch/x86/boot/bzImage" "$src/vmlinux" "$tmp/"
cp "$src/.config" "$tmp/config"
install_outputs "$tmp" "$out" "${outputs[@]}"
write_stamp "$out" "$hash"
log "small-6.1: built $("${kmake[@]}" -s kernelrelease)"
