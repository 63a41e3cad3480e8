#!/usr/bin/env bash
# The initramfs for a kernel build tree built with modules: the default busybox initramfs followed by
# a second newc cpio with the tree's modules (Linux unpacks concatenated archives one after the other),
# with /etc/minivmm-modules naming the virtio-pci and virtio-gpu chain that /init insmods.
#   images/build-tree.sh DIR       (images/build.sh tree=DIR; run-guest.sh --kernel DIR asks for it)
# Outputs "$(images/paths.sh tree-initramfs DIR)" and, beside it, modules.cpio and modules.txt.
# Runs `make -C DIR modules_install INSTALL_MOD_PATH=<work dir> INSTALL_MOD_STRIP=1` (debug info
# stays in the tree for gdb; the guest gets stripped copies). Fresh when the tree's .config,
# kernel.release, modules.order, modules.builtin and the size and mtime of every module in
# modules.order match the stamp, so a rebuilt module repacks and an unchanged tree costs one stat each.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { echo "usage: images/build-tree.sh KERNEL_BUILD_TREE" >&2; exit 2; }
(($# == 1)) || usage
[[ -d "$1" ]] || { echo "images/build-tree.sh: $1 is not a directory" >&2; exit 2; }
tree="$(realpath "$1")"
if ! cpio_out="$(minivmm_tree_initramfs "$tree")"; then
  log "tree: $tree was built without modules: nothing to add to the default initramfs"
  exit 0
fi
out="${cpio_out%/*}"
work="$MINIVMM_IMAGES/work/tree-${out##*/}"
outputs=(initramfs.cpio modules.cpio modules.txt)
# Loaded in the guest with their dependencies when they are modules (as for the Debian image).
root_modules=(virtio_pci virtio_gpu)
release_file="$tree/include/config/kernel.release"
[[ -s "$release_file" ]] || die "tree: $tree has no include/config/kernel.release (is the kernel built?)"
krel="$(<"$release_file")"

# What modules_install would install: the configuration and every module file's size and mtime.
# modules.order lists foo.ko (Linux <= 6.1) or foo.o (6.2+); the installed file is foo.ko either way.
tree_state() {
  local f
  for f in .config modules.order modules.builtin modules.builtin.modinfo; do
    [[ -f "$tree/$f" ]] && printf '%s %s\n' "$f" "$(sha256sum <"$tree/$f" | cut -c1-64)"
  done
  [[ -s "$tree/modules.order" ]] || return 0
  sed 's/\.o$/.ko/' "$tree/modules.order" | (cd "$tree" && xargs -r stat -c '%n %s %.9Y' 2>/dev/null) || true
}

stamp_hash() {
  inputs_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/lib/common.sh" -- "tree=$tree" "release=$krel" \
    "modules=${root_modules[*]}" "base=$(cat "$MINIVMM_IMAGES/initramfs/.stamp" 2>/dev/null)" \
    "cpio=$(pkg_version cpio)" "state=$(tree_state | sha256sum | cut -c1-64)"
}

hash="$(stamp_hash)"
if is_fresh "$out" "$hash" "${outputs[@]}"; then
  log "tree: up to date ($krel, $tree)"
  exit 0
fi
[[ -s "$MINIVMM_INITRAMFS" ]] || die "tree: no default initramfs at $MINIVMM_INITRAMFS (images/build.sh tree=DIR builds it first)"
need_pkgs cpio
# The kernel's modules_install runs depmod for modules.dep; without it the tree installs no map.
command -v depmod >/dev/null || [[ -x /sbin/depmod ]] || need_pkgs kmod

rm -rf "$work" && mkdir -p "$work/root/etc" "$work/out"
log "tree: make -C $tree modules_install ($krel)"
make -C "$tree" modules_install INSTALL_MOD_PATH="$work/root" INSTALL_MOD_STRIP=1 >"$work/make.log" 2>&1 \
  || { tail -n 20 "$work/make.log" >&2; die "tree: make -C $tree modules_install failed (log: $work/make.log)"; }
mdir="$work/root/lib/modules/$krel"
[[ -f "$mdir/modules.dep" ]] || die "tree: modules_install wrote no lib/modules/$krel/modules.dep (depmod, from Debian's kmod, makes it)"
# Linux <= 6.1 links build and source back into the tree: dangling in the guest.
rm -f "$mdir/build" "$mdir/source"

# Compressed modules (CONFIG_MODULE_COMPRESS_*): busybox insmod takes plain ELF, so unpack them and
# rename them in modules.dep; the binary indexes would name the old files, so they go.
mapfile -d '' packed < <(find "$mdir" \( -name '*.ko.xz' -o -name '*.ko.gz' -o -name '*.ko.zst' \) -print0)
if ((${#packed[@]})); then
  log "tree: unpack ${#packed[@]} compressed modules"
  for f in "${packed[@]}"; do
    case "$f" in
      *.xz) xz -dc "$f" ;;
      *.gz) gzip -dc "$f" ;;
      *.zst) zstd -qdc "$f" ;;
    esac >"${f%.*}" && rm -f "$f"
  done
  sed -i -E 's/\.ko\.(xz|gz|zst)\b/.ko/g' "$mdir/modules.dep"
  rm -f "$mdir"/modules.*.bin
fi

# The load order from modules.dep ("path: dep-path ..."), depth first so each module comes after
# what it needs. Names compare with '-' as '_', as the kernel does.
declare -A file_of=() deps_of=() seen=()
order=()
name_of() { local n="${1##*/}"; n="${n%%.ko*}"; echo "${n//-/_}"; }
while IFS= read -r line; do
  [[ -n "$line" ]] || continue
  n="$(name_of "${line%%:*}")"
  file_of[$n]="${line%%:*}"
  deps_of[$n]="${line#*:}"
done <"$mdir/modules.dep"
visit() {
  local n="$1" d
  [[ -z "${seen[$n]:-}" ]] || return 0
  [[ -n "${file_of[$n]:-}" ]] || die "tree: modules.dep names $n as a dependency but has no line for it"
  seen[$n]=1
  for d in ${deps_of[$n]}; do visit "$(name_of "$d")"; done
  order+=("${file_of[$n]}")
}
for m in "${root_modules[@]}"; do
  if [[ -n "${file_of[$m]:-}" ]]; then
    visit "$m"
  elif ! grep -qE "/${m//_/[-_]}\.ko$" "$mdir/modules.builtin" 2>/dev/null; then
    log "tree: warning: $m is neither a module nor built in: the guest will have no /dev/dri/card0 (images/kconfig.sh $tree)"
  fi
done
((${#order[@]} == 0)) || printf '%s\n' "${order[@]}" >"$work/root/etc/minivmm-modules"
touch "$work/root/etc/minivmm-modules"
log "tree: /init loads: ${order[*]:-(nothing: virtio-pci and virtio-gpu are built in)}"

log "tree: pack modules.cpio"
# -R 0:0: root owns everything in the guest; no device nodes here, so no fakeroot.
(cd "$work/root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/out/modules.cpio"
# The kernel looks for the next archive at a 4-byte boundary after the first one's trailer (GNU cpio
# pads to 512 bytes, so this never adds anything to our own archive).
size="$(stat -c %s "$MINIVMM_INITRAMFS")"
{ cat "$MINIVMM_INITRAMFS"; head -c $(((4 - size % 4) % 4)) /dev/zero; cat "$work/out/modules.cpio"; } >"$work/out/initramfs.cpio"
cp "$work/root/etc/minivmm-modules" "$work/out/modules.txt"
install_outputs "$work/out" "$out" "${outputs[@]}"
write_stamp "$out" "$hash"
rm -rf "$work"
log "tree: built $out/initramfs.cpio ($krel)"
