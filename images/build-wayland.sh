#!/usr/bin/env bash
# Builds $MINIVMM_IMAGES/initramfs-wayland/initramfs.cpio: the busybox initramfs plus the guest
# Wayland proxy (firmware/MiniVmm.GuestProxy) published NativeAOT as /bin/minivmm-guest-proxy,
# the unmodified Debian clients wayland-info (wayland-utils) and weston-simple-shm (weston) for
# /init's minivmm.wayland_clients=1 test mode, the bench's own libwayland client bench/wl-client.c
# (built here with gcc) for its minivmm.wayland_bench=N mode, and the shared libraries `ldd` names for each of
# them (loader + libs, at their host paths), uncompressed.
# A separate image: the default initramfs stays busybox-only. Needs dotnet (SDK) and gcc.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/initramfs.sh
. "$IMAGES_DIR/lib/initramfs.sh"

repo="$(cd "$IMAGES_DIR/.." && pwd)"
out="$MINIVMM_IMAGES/initramfs-wayland"
work="$MINIVMM_IMAGES/work/wayland-proxy"
proxy_bin=minivmm-guest-proxy
# The proxy and every project it builds from (ProjectReference closure, generator included).
# Gpu, Virtio, Pci and Kvm only while the pipe relay borrows Gpu's HostFd and Virtio's EventLoop (until MiniVmm.Sys).
proxy_dirs=(firmware/MiniVmm.GuestProxy src/MiniVmm.CrossDomain src/MiniVmm.Wayland src/MiniVmm.Wayland.Generator
  src/MiniVmm.Memory src/MiniVmm.Gpu src/MiniVmm.Virtio src/MiniVmm.Pci src/MiniVmm.Kvm)
# Debian's own client binaries, packed as the package installed them (never rebuilt).
clients=(/usr/bin/wayland-info /usr/bin/weston-simple-shm)
client_pkgs=(wayland-utils weston gcc libwayland-dev)
# The bench's client (bench/wl-client.c), compiled here, so the guest round trip is timed by the same code as the
# host's native baseline.
bench_client_src="$repo/bench/wl-client.c"
bench_client_build="$repo/bench/build-wl-client.sh"
bench_client=/usr/bin/minivmm-wl-client
# The pinned protocol XML the proxy's generated code and the bench client's xdg-shell glue come from.
protocol_xml=("$repo/src/MiniVmm.Wayland/protocols/wayland.xml" "$repo/src/MiniVmm.Wayland/protocols/xdg-shell.xml")

# sources_hash: paths and contents of the proxy's *.cs / *.csproj (bin/ and obj/ left out).
sources_hash() {
  (cd "$repo" && find "${proxy_dirs[@]}" \( -name bin -o -name obj \) -prune -o \
    -type f \( -name '*.cs' -o -name '*.csproj' \) -print | LC_ALL=C sort \
    | xargs -d '\n' sha256sum) | sha256sum | cut -c1-64
}

stamp_hash() {
  inputs_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/lib/common.sh" "$IMAGES_DIR/lib/initramfs.sh" \
    "$INIT_SCRIPT" "$IMAGES_DIR/wayland/publish-aot.props" "$repo/Directory.Build.props" \
    "${protocol_xml[@]}" "$bench_client_src" "$bench_client_build" -- "sources=$(sources_hash)" "dotnet=$(dotnet --version)" \
    "busybox-static=$(pkg_version busybox-static)" "cpio=$(pkg_version cpio)" \
    "libc6=$(pkg_version libc6)" "wayland-utils=$(pkg_version wayland-utils)" \
    "weston=$(pkg_version weston)" "libwayland-client0=$(pkg_version libwayland-client0)" \
    "gcc=$(pkg_version gcc)" "libwayland-dev=$(pkg_version libwayland-dev)"
}

command -v dotnet >/dev/null || die "dotnet not found (the .NET 10 SDK publishes the proxy)"
hash="$(stamp_hash)"
if is_fresh "$out" "$hash" initramfs.cpio; then
  log "initramfs-wayland: up to date"
  exit 0
fi
need_pkgs "${INITRAMFS_PKGS[@]}" "${client_pkgs[@]}"
hash="$(stamp_hash)"
mkdir -p "$out" "$work"
rm -f "$out/.stamp"

log "initramfs-wayland: dotnet publish $proxy_bin (NativeAOT, linux-x64)"
rm -rf "$work/publish"
# PublishAot through a props file limited to the proxy: as a global -p it would also reach the
# netstandard2.0 source generator, which the SDK refuses (NETSDK1207).
dotnet publish "$repo/firmware/MiniVmm.GuestProxy/MiniVmm.GuestProxy.csproj" -c Release \
  -r linux-x64 -nologo -v q -p:CustomBeforeMicrosoftCommonProps="$IMAGES_DIR/wayland/publish-aot.props" \
  --artifacts-path "$work/artifacts" -o "$work/publish" >&2 || die "dotnet publish failed"
bin="$work/publish/$proxy_bin"
[[ -x "$bin" ]] || die "dotnet publish made no $bin"
[[ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" == '177ELF' ]] || die "$bin is not an ELF (NativeAOT off?)"

log "initramfs-wayland: stage busybox + init + proxy + clients + their shared libraries"
root="$out/root"
initramfs_stage "$root"
mkdir -p "$root/run/user/0" "$root/usr/bin"
install -m 755 "$bin" "$root/bin/$proxy_bin"
libs=()
# add_libs ELF: append to libs the absolute paths ldd names for ELF (loader included).
add_libs() {
  local ldd_out lib
  ldd_out="$(ldd "$1")" || die "ldd $1 failed"
  grep -q 'not found' <<<"$ldd_out" && die "ldd $1: unresolved libraries: $ldd_out"
  while read -r lib; do libs+=("$lib"); done < <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$ldd_out")
}
add_libs "$bin"
for client in "${clients[@]}"; do
  [[ -x "$client" ]] || die "missing $client (apt-get install ${client_pkgs[*]})"
  install -m 755 "$client" "$root$client"
  add_libs "$client"
done
"$bench_client_build" "$work" >&2 || die "bench/build-wl-client.sh failed"
install -m 755 "$work/wl-client" "$root$bench_client"
add_libs "$work/wl-client"
clients+=("$bench_client") # checked below like the Debian clients
mapfile -t libs < <(printf '%s\n' "${libs[@]}" | LC_ALL=C sort -u)
((${#libs[@]})) || die "ldd named no libraries"
for lib in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib" # the file itself at the path ldd printed (symlinks resolved)
done

log "initramfs-wayland: pack initramfs.cpio"
initramfs_pack "$root" "$out/initramfs.cpio"
printf '%s\n' "${libs[@]}" >"$out/libs.txt"

log "initramfs-wayland: check the cpio (listing, proxy runs in a root unpacked from it)"
listing="$(cpio -it --quiet <"$out/initramfs.cpio")"
for f in "bin/$proxy_bin" "${clients[@]#/}" "${libs[@]#/}"; do
  grep -qxF "$f" <<<"$listing" || die "initramfs.cpio lacks $f"
done
check="$out/check"
rm -rf "$root" "$check"
mkdir -p "$check"
(cd "$check" && cpio -id --quiet --no-absolute-filenames --nonmatching 'dev/*' <"$out/initramfs.cpio")
# run_in_image PROGRAM [ARG...]: PROGRAM's output when run from the unpacked image alone.
run_in_image() {
  if ((EUID == 0)); then
    chroot "$check" "$@" 2>&1 || true
  else # no chroot without root: the unpacked loader with the unpacked libs only
    local loader libdirs
    loader="$(grep -m1 '/ld-linux' "$out/libs.txt")" || die "ldd named no ld-linux loader"
    libdirs=("${libs[@]%/*}")
    "$check$loader" --inhibit-cache --library-path "$(printf '%s:' "${libdirs[@]/#/$check}")" \
      "$check$1" "${@:2}" 2>&1 || true
  fi
}
usage_out="$(run_in_image "/bin/$proxy_bin")"
grep -q "^usage: $proxy_bin" <<<"$usage_out" || die "$proxy_bin did not run from the image: $usage_out"
for client in "${clients[@]}"; do
  # No compositor in the chroot: each client must load and then fail to connect, nothing worse.
  client_out="$(XDG_RUNTIME_DIR=/nonexistent WAYLAND_DISPLAY=none run_in_image "$client")"
  grep -q 'error while loading shared libraries' <<<"$client_out" && die "$client did not load from the image: $client_out"
done
rm -rf "$check"
write_stamp "$out" "$hash"
