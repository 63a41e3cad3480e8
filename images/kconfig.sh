#!/usr/bin/env bash
# Turns on what MiniVmm needs in your kernel build tree's .config, as `vng --kconfig` does for
# virtme-ng: the options of images/kernel/minivmm.config above its "small kernel only" line (the
# serial console, the initramfs, MP table + conf1 PCI, virtio-pci, virtio-gpu with fbcon, magic
# SysRq on the serial line, ...), merged with the tree's scripts/kconfig/merge_config.sh, then
# `make olddefconfig`. An option the tree already has as a module (=m) stays a module:
# run-guest.sh --kernel DIR packs the modules and /init loads the virtio-gpu chain.
#   images/kconfig.sh DIR          then: make -C DIR -j$(nproc) bzImage modules
# DIR is the tree (or its O= build directory) with a .config. Reports, and exits 1, when an option
# did not survive olddefconfig (a dependency is off); options this kernel does not have are listed
# and skipped. Bad input: one line, exit 2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fragment_source="$here/kernel/minivmm.config"

die() { echo "kconfig.sh: $*" >&2; exit 2; }
(($# == 1)) || die "usage: images/kconfig.sh KERNEL_BUILD_TREE"
[[ -d "$1" ]] || die "$1 is not a directory"
tree="$(realpath "$1")"
[[ -f "$tree/.config" ]] || die "$tree has no .config (make defconfig first, or copy a distribution's config there)"
# An O= build directory reaches its sources through the `source` link Kbuild leaves there.
src="$tree"
[[ -f "$src/scripts/kconfig/merge_config.sh" ]] || src="$tree/source"
[[ -f "$src/scripts/kconfig/merge_config.sh" ]] || die "$tree has no scripts/kconfig/merge_config.sh (not a kernel tree?)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The symbols this kernel's Kconfig declares, so an option of 6.1's fragment that a later kernel
# dropped is skipped rather than reported as lost.
find "$src" -name 'Kconfig*' -not -path '*/.git/*' -print0 \
  | xargs -0 sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/CONFIG_\2/p' \
  | sort -u >"$work/known"

wanted=() unknown=()
while IFS='=' read -r name value; do
  if ! grep -qx "$name" "$work/known"; then
    unknown+=("$name")
    continue
  fi
  [[ "$value" == y ]] && grep -qx "$name=m" "$tree/.config" && value=m
  wanted+=("$name=$value")
done < <(sed '/^# === small kernel only/,$d' "$fragment_source" | grep '^CONFIG_')
printf '%s\n' "${wanted[@]}" >"$work/minivmm.config"

(cd "$tree" && bash "$src/scripts/kconfig/merge_config.sh" -m .config "$work/minivmm.config") >"$work/merge.log" 2>&1 \
  || { cat "$work/merge.log" >&2; echo "kconfig.sh: merge_config.sh failed" >&2; exit 1; }
make -C "$tree" olddefconfig >"$work/make.log" 2>&1 \
  || { tail -n 20 "$work/make.log" >&2; echo "kconfig.sh: make olddefconfig failed" >&2; exit 1; }

((${#unknown[@]} == 0)) || echo "kconfig.sh: not in this kernel, skipped: ${unknown[*]}" >&2
lost=()
for option in "${wanted[@]}"; do grep -qx "$option" "$tree/.config" || lost+=("$option"); done
if ((${#lost[@]})); then
  echo "kconfig.sh: not set after make olddefconfig (an option they depend on is off): ${lost[*]}" >&2
  exit 1
fi
echo "kconfig.sh: $tree/.config has MiniVmm's ${#wanted[@]} options; now: make -C $tree -j\$(nproc) bzImage modules"
