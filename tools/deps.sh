#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need (the guest images install their own).
#   build: nothing here (the Wayland protocol XML the code generator reads is pinned in src/MiniVmm.Wayland/protocols)
#   test:  libwayland-dev (wayland-scanner and libwayland-client for bench/wl-client.c, built into the wayland image
#          the guest end-to-end test boots), weston (headless compositor for the display tests), wayland-utils
#          (wayland-info, an unmodified client run through the guest proxy), xvfb (an X server for Weston's x11
#          backend, the one Weston 10 backend that has a wl_seat, hence a keyboard keymap fd), xdotool (synthetic X
#          input into that Weston, which the virtio-input test turns into guest evdev events), xz-utils zstd lz4
#          gzip (the boot loader's decompressor tests cross-check against the real tools), gdb (the gdb stub's batch
#          session against the small kernel)
# Re-running is a no-op when everything is present.
set -euo pipefail

packages=(libwayland-dev weston wayland-utils xvfb xdotool xz-utils zstd lz4 gzip cpio gdb)
missing=()
for package in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
	echo "tools/deps.sh: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "tools/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
	{ apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
