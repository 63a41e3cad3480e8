#!/usr/bin/env bash
# MiniVmm benchmarks: every figure is a RATIO against a baseline measured in the same run on the
# same machine (a plain C KVM program, QEMU), never an absolute threshold. Prints one table.
#
#   bench/run.sh                 everything (~5-7 minutes on a 2-core kvm_pvm host, most of it the
#                                two Linux boots, one run each)
#   BENCH_BOOT=0 bench/run.sh    skip the Linux boots (~1 minute)
#   BENCH_BOOT=reuse             report the boot logs of the last run in BENCH_OUT instead of booting
#   BENCH_RUNS=N                 start-to-exit runs per command (default 10, median reported)
#   BENCH_GPU_RUNS=N             timed rounds per virtio-gpu figure (default 50, after 5 warm-up rounds)
#   BENCH_ONLY=winsrv            only the cross-domain (window-server) rows: needs weston, not KVM or QEMU (~1 minute)
#   BENCH_ONLY=budget            only the hostile-guest rows: host memory held under each attack / max-host-memory (~30 s)
#   BENCH_ONLY=proxy             only the guest-proxy rows: the proxy (NativeAOT minivmm-proxy-host) between a libwayland client (gcc,
#                                libwayland-dev) and weston vs the client native (~3 minutes)
#   BENCH_ONLY="winsrv proxy"    both
#   BENCH_ONLY=guest             only the in-guest row: wl_display_roundtrip through the shipped proxy on the DRM
#                                transport in a Linux guest (small kernel + wayland initramfs, needs KVM; ~5 minutes here)
#   BENCH_OUT=DIR                where builds, payloads and logs go (default bench/out, git-ignored)
#   BENCH_AOT=PATH               an already published NativeAOT minivmm (e.g. out/minivmm from
#                                `make publish`) instead of publishing one into BENCH_OUT
#
# Baselines only (never the product): qemu-system-x86 and gcc, installed with apt-get if missing.
# Without a usable /dev/kvm (or MINIVMM_KVM) the rows that run guests print "skipped: no /dev/kvm".
# Exit status: 0 when every tool ran; 1 when a build, a baseline or MiniVmm failed to run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
RUNS=${BENCH_RUNS:-10}
BOOT=${BENCH_BOOT:-1}
ONLY=${BENCH_ONLY:-}
GPU_RUNS=${BENCH_GPU_RUNS:-50}
PIO_SMALL=1000
PIO_LARGE=200000
PIO_REPS=3
BOOT_TIMEOUT=600
BOOT_MARKER='Run /init as init process'
mkdir -p "$OUT"
cd "$ROOT"

log() { echo "bench: $*" >&2; }
fail() { echo "bench: FAILED: $*" >&2; exit 1; }
# usable_kvm: sets kvm (1 or 0) and kvm_device (MINIVMM_KVM, as minivmm opens, else /dev/kvm).
usable_kvm() {
  kvm=1
  kvm_device=${MINIVMM_KVM:-/dev/kvm}
  [[ -c $kvm_device && -r $kvm_device && -w $kvm_device ]] || { kvm=0; log "$kvm_device is not usable here: the KVM rows are skipped"; }
}

# --- cross-domain (winsrv) -------------------------------------------------------------------
# In-process like the GPU rows: the helper plays the guest proxy against VirtioGpuDevice and a headless Weston, and
# a native client on the same Weston is the baseline. Prints rows into "rows" and the note into winsrv_note.
winsrv_note=""
winsrv_rows() {
  if ! command -v weston >/dev/null; then
    winsrv_note="winsrv: skipped: weston is not installed (apt-get install -y weston)"
    return
  fi
  log "winsrv: cross-domain sync / 1080p frames / SEND throughput vs a native client on one Weston, runs $GPU_RUNS ..."
  local w
  w=$("${BENCH[@]}" winsrv --runs "$GPU_RUNS") || fail "winsrv"
  local m b
  for stat in median p90; do
    m=$(field "sync_${stat}_us" "$w") b=$(field "sync_native_${stat}_us" "$w")
    row "winsrv wl_display.sync round trip, $stat (us)" "$m" "$b (native WaylandConnection)" "$(ratio "$m" "$b")"
  done
  m=$(field fps "$w") b=$(field native_fps "$w")
  row "winsrv 1080p frames, blob wl_shm pool (fps)" "$m" "$b (native, own memfd pool)" "$(ratio "$m" "$b")"
  row "winsrv pixel bytes copied by device/frame" "$(field pixel_bytes_copied_per_frame "$w")" "0 (native)" "-"
  m=$(field send_mbps "$w") b=$(field send_native_mbps "$w")
  row "winsrv SEND throughput, 3744 B SENDs (MB/s)" "$m" "$b (native socket writes)" "$(ratio "$m" "$b")"
  winsrv_note="winsrv: sync = SEND wl_display.sync, then the fenced POLL's RECEIVE with wl_callback.done (one POLL always outstanding, driver woken by the queue interrupt), vs WaylandConnection.Roundtrip on the same Weston; $(field sync_rounds "$w") rounds each, in alternating blocks
winsrv: frames = per frame write all 8,294,400 bytes into the pool buffer (2 buffers, waits for wl_buffer.release), attach + damage_buffer + frame + commit + wl_display.sync, wait for the sync; $(field frames "$w") frames each; device pool = HOST3D blob (memfd) passed to Weston as a SEND identifier and written through the guest's MAP_BLOB view of the same memfd
winsrv: pixel bytes copied = 0 by construction, not sampled: no command in the frame loop carries pixels (no TRANSFER, no FLUSH; the blob memfd is the pool); the device copies only Wayland bytes, $(field wire_bytes_per_frame "$w") B/frame (SEND data + RECEIVE ring messages incl. the 352 B struct, counted from the commands)
winsrv: SEND = $(field send_bytes "$w") bytes of wl_surface.damage requests then one sync (so the compositor has consumed them), vs the same bytes in the same chunks to a native socket; median of 3 timed blocks; both are bounded by Weston parsing the requests"
}
# --- hostile guest: host memory held under each attack, as a ratio to the budget ----------------
budget_note=""
budget_rows() {
  log "budget: host memory held under each hostile-guest attack vs max-host-memory ..."
  local out line name heap rss budget
  out=$("${BENCH[@]}" budget) || fail "budget"
  while read -r line; do
    name=$(field attack "$line") heap=$(field heap_kib "$line") rss=$(field rss_kib "$line") budget=$(field budget_kib "$line")
    row "held under: ${name//_/ } (heap KiB)" "$heap" "$budget (max-host-memory)" "$(ratio "$heap" "$budget")"
    budget_note+="budget: ${name//_/ }: $(field accepted "$line") of $(field commands "$line") commands accepted; RSS grew $rss KiB"$'\n'
  done <<<"$out"
  budget_note+="budget: each attack on a fresh device model (64 MiB budget), driven through the virtqueue; heap = managed heap growth after a full GC, ratio = heap / budget (<= 1.0x wanted)"
}
# build_wl_client: $OUT/wl-client from bench/wl-client.c, by the recipe the wayland image uses for the guest's copy.
build_wl_client() { bench/build-wl-client.sh "$OUT" || fail "bench/build-wl-client.sh (gcc bench/wl-client.c)"; }
# wl_client_needs: empty when weston and the client's build tools are here, else what to install.
wl_client_needs() {
  command -v weston >/dev/null && command -v wayland-scanner >/dev/null \
    || echo "needs weston and libwayland-dev (apt-get install -y weston libwayland-dev)"
}

# --- guest proxy in a Linux guest ----------------------------------------------------------------
# What a user feels in the guest: bench/wl-client.c's wl_display_roundtrip inside a Linux guest (small kernel, wayland
# initramfs), through the shipped NativeAOT proxy on the kernel's virtio_gpu DRM driver and MiniVmm's device, vs the
# same client native on the same headless Weston. The guest prints median and p90 itself (/init's wayland_bench mode).
GUEST_ROUNDS=${BENCH_GUEST_ROUNDS:-500}
guest_note=""
guest_rows() {
  local kernel initrd
  kernel=$(images/paths.sh small-kernel) initrd=$(images/paths.sh wayland-initramfs)
  local needs
  needs=$(wl_client_needs)
  if [[ -n $needs ]]; then
    guest_note="guest: skipped: $needs"
    return
  fi
  # The guest's client is the image's copy: a stale image would time other code than the native baseline.
  if ! images/build.sh --check small wayland >/dev/null 2>&1; then
    guest_note="guest: skipped: the small kernel or the wayland image is missing or stale (make image image-wayland)"
    return
  fi
  if ((!kvm)); then
    row "guest wl_display_roundtrip, median (us)" "-" "skipped: no /dev/kvm" "-"
    guest_note="guest: skipped: no /dev/kvm"
    return
  fi
  build_wl_client
  local run=$OUT/guest-weston socket m p90 b bp90 out
  rm -rf "$run" && mkdir -p "$run" && chmod 700 "$run"
  XDG_RUNTIME_DIR=$run weston --backend=headless-backend.so --use-pixman --socket=bench-guest --idle-time=0 \
    --log="$run/weston.log" </dev/null >/dev/null 2>&1 &
  local weston_pid=$!
  socket=$run/bench-guest
  for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.1; done
  [[ -S $socket ]] || { kill "$weston_pid"; fail "guest: headless weston did not start ($run/weston.log)"; }
  out=$(XDG_RUNTIME_DIR=$run WAYLAND_DISPLAY=$socket "$OUT/wl-client" roundtrip "$GUEST_ROUNDS" | sort -n) || { kill "$weston_pid"; fail "guest: native wl-client"; }
  b=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' <<<"$out") bp90=$(awk '{ v[NR] = $1 } END { print v[int(NR * 0.9 + 0.5)] }' <<<"$out")
  log "guest: a Linux guest runs bench/wl-client.c through the shipped proxy, $GUEST_ROUNDS round trips (one boot, minutes here) ..."
  "${AOT[@]}" run --kernel "$kernel" --initrd "$initrd" --gpu blob=on,contexts=on,hostmem=256M --display none \
    --wayland-socket "$socket" --append "minivmm.wayland=1 minivmm.wayland_bench=$GUEST_ROUNDS minivmm.test=1" \
    --timeout 1200 >"$OUT/guest-bench.log" 2>&1 || { kill "$weston_pid"; fail "guest: boot (log: $OUT/guest-bench.log)"; }
  kill "$weston_pid"
  out=$(grep -m1 'MINIVMM-BENCH: roundtrip_us' "$OUT/guest-bench.log") || fail "guest: no MINIVMM-BENCH line (log: $OUT/guest-bench.log)"
  m=$(field median "$out") p90=$(field p90 "$out")
  row "guest wl_display_roundtrip, median (us)" "$m" "$b (same client, native)" "$(ratio "$m" "$b")"
  row "guest wl_display_roundtrip, p90 (us)" "$p90" "$bp90 (same client, native)" "$(ratio "$p90" "$bp90")"
  guest_note="guest: bench/wl-client.c (built into the wayland initramfs) in a Linux guest on $( [[ -d /sys/module/kvm_pvm ]] && echo "kvm_pvm: the guest kernel's share of each round trip is interpreted" || echo "hardware KVM"), $GUEST_ROUNDS wl_display_roundtrip calls through minivmm-guest-proxy (NativeAOT, DRM transport: EXECBUFFER + fence events of the kernel's virtio_gpu driver) and MiniVmm's device to a headless Weston; baseline: the same client and count natively on that Weston; median and p90 computed in the guest"
}

# --- guest proxy --------------------------------------------------------------------------------
# The guest proxy's code on the host: tools/MiniVmm.ProxyHost (the proxy with MiniVmm's device model in its process
# as the transport), published NativeAOT as images/build-wayland.sh publishes the shipped proxy, between a
# plain libwayland client (bench/wl-client.c) and a headless Weston, vs the same client on the same Weston.
proxy_note=""
proxy_rows() {
  local needs
  needs=$(wl_client_needs)
  if [[ -n $needs ]]; then
    proxy_note="proxy: skipped: $needs"
    return
  fi
  log "proxy: dotnet publish tools/MiniVmm.ProxyHost (NativeAOT) and gcc bench/wl-client.c ..."
  dotnet publish tools/MiniVmm.ProxyHost/MiniVmm.ProxyHost.csproj -c Release -r linux-x64 -nologo -v q \
    -p:CustomBeforeMicrosoftCommonProps="$ROOT/images/wayland/publish-aot.props" --artifacts-path "$OUT/art-proxy" \
    -o "$OUT/proxy-aot" >"$OUT/build-proxy.log" 2>&1 || { tail -20 "$OUT/build-proxy.log" >&2; fail "dotnet publish the proxy host tool (NativeAOT)"; }
  build_wl_client
  log "proxy: wl_display_roundtrip and 1080p frames, NativeAOT proxy vs native, runs $GPU_RUNS ..."
  local p m b
  p=$("${BENCH[@]}" proxy --proxy "$OUT/proxy-aot/minivmm-proxy-host" --client "$OUT/wl-client" --runs "$GPU_RUNS") || fail "proxy"
  for stat in median p90; do
    m=$(field "roundtrip_${stat}_us" "$p") b=$(field "roundtrip_native_${stat}_us" "$p")
    row "proxy wl_display_roundtrip, $stat (us)" "$m" "$b (same client, native)" "$(ratio "$m" "$b")"
  done
  for mode in full 64; do
    local label=$([[ $mode == full ]] && echo "full damage" || echo "64x64 damage")
    m=$(field "fps_$mode" "$p") b=$(field "native_fps_$mode" "$p")
    row "proxy 1080p frames, $label (fps)" "$m" "$b (same client, native)" "$(ratio "$m" "$b")"
    local damaged=$([[ $mode == full ]] && echo 8294400 || echo 16384)
    m=$(field "copied_per_frame_$mode" "$p")
    row "proxy pixel bytes copied/frame, $label" "$m" "$damaged (the damaged bytes)" "$(ratio "$m" "$damaged")"
  done
  proxy_note="proxy: the NativeAOT minivmm-proxy-host (the guest proxy's code with MiniVmm's device model in its process) between bench/wl-client.c (libwayland) and a headless Weston 1920x1080, vs the same client connected to the same Weston; roundtrip = $(field roundtrip_rounds "$p") wl_display_roundtrip calls each way, timed in the client, in 10 alternating blocks after an untimed pair
proxy: frames = an xdg_toplevel with two 1920x1080 XRGB wl_shm buffers; per frame wait for a free buffer, write the damaged area (whole buffer, or a 64x64 square at (64,64)), attach + damage_buffer + commit + wl_display_roundtrip; $(field frames_full "$p") full and $(field frames_64 "$p") 64x64 frames each way (3 alternating runs); bytes copied = what the proxy logs it copied from the client's pool into host blobs for a run, less a run of the 4 untimed frames alone (each buffer's first whole frame, then one each in the timed mode), per timed frame"
}

# BENCH_ONLY modes: build the helper and define the row helpers the full run defines further down.
only_setup() {
  log "building bench helper (Release) ..."
  dotnet build bench/MiniVmm.Bench -c Release --artifacts-path "$OUT/art" -v q -nologo >"$OUT/build-bench.log" 2>&1 \
    || { tail -20 "$OUT/build-bench.log" >&2; fail "dotnet build bench/MiniVmm.Bench"; }
  BENCH=(dotnet "$OUT/art/bin/MiniVmm.Bench/release/MiniVmm.Bench.dll")
  field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2fx", a / b }'; }
  rows=()
  row() { rows+=("$(printf '| %-46s | %10s | %-30s | %6s |' "$1" "$2" "$3" "$4")"); }
}
if [[ $ONLY == guest ]]; then
  only_setup
  usable_kvm
  [[ -n ${BENCH_AOT:-} ]] || fail "BENCH_ONLY=guest needs BENCH_AOT (make publish; out/minivmm)"
  AOT=("$BENCH_AOT")
  guest_rows
  echo
  echo "MiniVmm bench (BENCH_ONLY=guest): ratio = MiniVmm / baseline, same run, same machine"
  printf '%s\n' "${rows[@]}"
  echo "$guest_note"
  exit 0
fi
if [[ $ONLY == budget ]]; then
  only_setup
  budget_rows
  echo
  echo "MiniVmm bench (BENCH_ONLY=budget): ratio = host memory held / configured budget"
  printf '%s\n' "${rows[@]}"
  echo "$budget_note"
  exit 0
fi
if [[ -n $ONLY ]]; then
  only_setup
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  for part in $ONLY; do
    case $part in
      winsrv) winsrv_rows ;;
      proxy) proxy_rows ;;
      *) fail "BENCH_ONLY=$ONLY: the parts are winsrv and proxy (or budget alone)" ;;
    esac
  done
  echo
  echo "MiniVmm bench (BENCH_ONLY=$ONLY): ratio = MiniVmm / baseline, same run, same machine (lower is better for MiniVmm, except fps and MB/s)"
  echo "host: $(nproc) CPUs; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '| %-46s | %10s | %-30s | %6s |\n' "benchmark" "MiniVmm" "baseline" "ratio"
  printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..32})" "$(printf -- '-%.0s' {1..8})"
  printf '%s\n' "${rows[@]}"
  [[ -z $winsrv_note ]] || echo "$winsrv_note"
  [[ -z $proxy_note ]] || echo "$proxy_note"
  exit 0
fi

# Without a usable KVM device the rows that run a guest (MiniVmm's and QEMU's) print "skipped: no /dev/kvm";
# the device-model rows still run, and the baselines (QEMU, gcc) are not needed. MINIVMM_KVM (the device
# minivmm opens) can point elsewhere to try that.
usable_kvm

# --- baseline tools ---------------------------------------------------------------------------
missing=()
if ((kvm)); then
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  [[ -e /usr/share/seabios/bios-256k.bin || -e /usr/share/qemu/bios-256k.bin ]] || missing+=(seabios)
  command -v gcc >/dev/null || missing+=(gcc)
  echo '#include <linux/kvm.h>' | gcc -E - >/dev/null 2>&1 || missing+=(libc6-dev linux-libc-dev)
  [[ -x /usr/bin/time ]] || missing+=(time)
fi
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    fail "need ${missing[*]} (baselines only): sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  log "installing baselines: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 \
    || fail "apt-get install ${missing[*]}"
fi

# --- builds -----------------------------------------------------------------------------------
log "building (Release: bench helper, MiniVmm JIT, MiniVmm NativeAOT) ..."
dotnet build bench/MiniVmm.Bench -c Release --artifacts-path "$OUT/art" -v q -nologo >"$OUT/build-bench.log" 2>&1 \
  || { tail -20 "$OUT/build-bench.log" >&2; fail "dotnet build bench/MiniVmm.Bench"; }
dotnet build src/MiniVmm -c Release --artifacts-path "$OUT/art" -v q -nologo >"$OUT/build-jit.log" 2>&1 \
  || { tail -20 "$OUT/build-jit.log" >&2; fail "dotnet build src/MiniVmm"; }
if [[ -n ${BENCH_AOT:-} ]]; then
  [[ -x $BENCH_AOT ]] || fail "BENCH_AOT=$BENCH_AOT is not an executable"
  AOT=("$(realpath "$BENCH_AOT")")
else
  dotnet publish src/MiniVmm -c Release -r linux-x64 -o "$OUT/aot" --artifacts-path "$OUT/art-aot" -v q -nologo >"$OUT/build-aot.log" 2>&1 \
    || { tail -20 "$OUT/build-aot.log" >&2; fail "dotnet publish src/MiniVmm (NativeAOT)"; }
  AOT=("$OUT/aot/minivmm")
fi
if ((kvm)); then
  gcc -O2 -Wall -Wextra -o "$OUT/kvm-pio-loop" bench/kvm-pio-loop.c || fail "gcc bench/kvm-pio-loop.c"
fi

BENCH=(dotnet "$OUT/art/bin/MiniVmm.Bench/release/MiniVmm.Bench.dll")
JIT=(dotnet "$OUT/art/bin/MiniVmm/release/minivmm.dll")
P=$OUT/payloads
"${BENCH[@]}" write-payloads "$P" "$PIO_SMALL" "$PIO_LARGE" >/dev/null || fail "write-payloads"
# QEMU's CPU model: the host's, less IA32_ARCH_CAPABILITIES (MSR 0x10a), which QEMU 7.2 sets and a kvm_pvm host
# refuses ("failed to set MSR 0x10a", then an assertion). MiniVmm writes no such MSR.
QEMU_CPU=host,-arch-capabilities
# shellcheck disable=SC2054 # the commas are inside QEMU arguments
QEMU_EXIT=(qemu-system-x86_64 -M microvm -enable-kvm -cpu "$QEMU_CPU" -m 64M -nodefaults -no-user-config
           -display none -bios "$P/qemu-exit.bin" -device isa-debug-exit,iobase=0xf4,iosize=4)

# field NAME LINE: the value of NAME=... in a key=value line
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2fx", a / b }'; }
rows=()
row() { rows+=("$(printf '| %-46s | %10s | %-30s | %6s |' "$1" "$2" "$3" "$4")"); }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $load_start"

# median: the middle value of the numbers on stdin (one per line)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# once EXPECTED_EXIT CMD...: wall ms of one run of CMD, start to exit (the helper checks the exit status)
once() {
  local expect=$1 line
  shift
  line=$("${BENCH[@]}" startup --runs 1 --warmup 0 --expect-exit "$expect" -- "$@") || return 1
  field median_ms "$line"
}

# --- 1-3: guests on KVM -----------------------------------------------------------------------
if ((kvm)); then
  # --- 1. PIO exit round trip -------------------------------------------------------------------
  # Rounds interleave the C baseline and MiniVmm so that load from elsewhere hits both alike.
  log "PIO exits: $PIO_REPS rounds of C kvm-pio-loop $PIO_LARGE, MiniVmm AOT and JIT pio-$PIO_SMALL and pio-$PIO_LARGE ..."
  once 0 "${AOT[@]}" run --kernel "$P/pio-$PIO_SMALL.elf" >/dev/null || fail "MiniVmm AOT pio-$PIO_SMALL"
  once 0 "${JIT[@]}" run --kernel "$P/pio-$PIO_SMALL.elf" >/dev/null || fail "MiniVmm JIT pio-$PIO_SMALL"
  : >"$OUT/pio.tsv"
  for _ in $(seq "$PIO_REPS"); do
    c=$("$OUT/kvm-pio-loop" "$PIO_LARGE") || fail "kvm-pio-loop"
    as=$(once 0 "${AOT[@]}" run --kernel "$P/pio-$PIO_SMALL.elf") || fail "MiniVmm AOT pio-$PIO_SMALL"
    al=$(once 0 "${AOT[@]}" run --kernel "$P/pio-$PIO_LARGE.elf") || fail "MiniVmm AOT pio-$PIO_LARGE"
    js=$(once 0 "${JIT[@]}" run --kernel "$P/pio-$PIO_SMALL.elf") || fail "MiniVmm JIT pio-$PIO_SMALL"
    jl=$(once 0 "${JIT[@]}" run --kernel "$P/pio-$PIO_LARGE.elf") || fail "MiniVmm JIT pio-$PIO_LARGE"
    printf '%s\t%s\t%s\t%s\t%s\n' "$(field ns_per_exit "$c")" "$as" "$al" "$js" "$jl" >>"$OUT/pio.tsv"
  done
  col() { cut -f"$1" "$OUT/pio.tsv" | median; }
  per_exit() { awk -v s="$1" -v l="$2" -v n=$((PIO_LARGE - PIO_SMALL)) 'BEGIN { printf "%.0f", (l - s) * 1e6 / n }'; }
  c_ns=$(col 1 | xargs printf '%.0f')
  aot_ns=$(per_exit "$(col 2)" "$(col 3)")
  jit_ns=$(per_exit "$(col 4)" "$(col 5)")
  row "PIO exit round trip, AOT (ns/exit)" "$aot_ns" "$c_ns (C kvm-pio-loop)" "$(ratio "$aot_ns" "$c_ns")"
  row "PIO exit round trip, JIT (ns/exit)" "$jit_ns" "$c_ns (C kvm-pio-loop)" "$(ratio "$jit_ns" "$c_ns")"

  # --- 2. start to exit -------------------------------------------------------------------------
  log "start-to-exit: $RUNS rounds of QEMU microvm, MiniVmm JIT, MiniVmm AOT (after one warm-up round) ..."
  : >"$OUT/startup.tsv"
  for i in $(seq 0 "$RUNS"); do
    q=$(once 1 "${QEMU_EXIT[@]}") || fail "QEMU microvm exit image"
    j=$(once 0 "${JIT[@]}" run --kernel "$P/exit0.elf" --memory 64M) || fail "MiniVmm JIT exit0"
    a=$(once 0 "${AOT[@]}" run --kernel "$P/exit0.elf" --memory 64M) || fail "MiniVmm AOT exit0"
    ((i == 0)) || printf '%s\t%s\t%s\n' "$q" "$j" "$a" >>"$OUT/startup.tsv"
  done
  ms1() { xargs printf '%.1f'; }
  q_ms=$(cut -f1 "$OUT/startup.tsv" | median | ms1)
  j_ms=$(cut -f2 "$OUT/startup.tsv" | median | ms1)
  a_ms=$(cut -f3 "$OUT/startup.tsv" | median | ms1)
  row "start->exit, exit0, AOT (ms, median of $RUNS)" "$a_ms" "$q_ms (QEMU microvm)" "$(ratio "$a_ms" "$q_ms")"
  row "start->exit, exit0, JIT (ms, median of $RUNS)" "$j_ms" "$q_ms (QEMU microvm)" "$(ratio "$j_ms" "$q_ms")"
  row "start->exit, exit0, AOT vs JIT (ms)" "$a_ms" "$j_ms (MiniVmm JIT)" "$(ratio "$a_ms" "$j_ms")"

  # --- 3. peak RSS ------------------------------------------------------------------------------
  # rss_kib CMD...: median peak RSS (KiB) of 3 runs (QEMU's debug-exit status 1 is expected, so statuses are ignored)
  rss_kib() {
    for _ in 1 2 3; do
      /usr/bin/time -f 'rss=%M' -o "$OUT/time.out" "$@" </dev/null >/dev/null 2>&1 || true
      field rss "$(cat "$OUT/time.out")"
    done | sort -n | sed -n 2p
  }
  log "peak RSS (64M and 512M guests) ..."
  a64=$(rss_kib "${AOT[@]}" run --kernel "$P/exit0.elf" --memory 64M)
  a512=$(rss_kib "${AOT[@]}" run --kernel "$P/exit0.elf" --memory 512M)
  j64=$(rss_kib "${JIT[@]}" run --kernel "$P/exit0.elf" --memory 64M)
  Q64=("${QEMU_EXIT[@]}"); Q512=("${QEMU_EXIT[@]/64M/512M}")
  q64=$(rss_kib "${Q64[@]}")
  q512=$(rss_kib "${Q512[@]}")
  [[ -n $a64 && -n $q64 && -n $j64 ]] || fail "peak RSS measurement"
  mib() { awk -v k="$1" 'BEGIN { m = k / 1024; if (m > -0.05 && m < 0.05) m = 0; printf "%.1f", m }'; }
  row "peak RSS, exit0, 64M guest, AOT (MiB)" "$(mib "$a64")" "$(mib "$q64") (QEMU microvm)" "$(ratio "$a64" "$q64")"
  row "peak RSS, exit0, 64M guest, JIT (MiB)" "$(mib "$j64")" "$(mib "$q64") (QEMU microvm)" "$(ratio "$j64" "$q64")"
  row "peak RSS - 64 MiB guest RAM, AOT (MiB)" "$(mib $((a64 - 65536)))" "$(mib $((q64 - 65536))) (QEMU microvm)" "-"
  row "RSS growth, 64M -> 512M guest (MiB)" "$(mib $((a512 - a64)))" "$(mib $((q512 - q64))) (QEMU microvm)" "-"
else
  for label in "PIO exit round trip, AOT (ns/exit)" "PIO exit round trip, JIT (ns/exit)" "start->exit, exit0, AOT (ms, median of $RUNS)" \
    "start->exit, exit0, JIT (ms, median of $RUNS)" "start->exit, exit0, AOT vs JIT (ms)" "peak RSS, exit0, 64M guest, AOT (MiB)" \
    "peak RSS, exit0, 64M guest, JIT (MiB)" "peak RSS - 64 MiB guest RAM, AOT (MiB)" "RSS growth, 64M -> 512M guest (MiB)"; do
    row "$label" "-" "skipped: no /dev/kvm" "-"
  done
fi

# --- 4. virtio-gpu device model ---------------------------------------------------------------
# In-process (the helper drives VirtioGpuDevice as a guest driver would), so no guest and no KVM: these are
# host figures even on a software-KVM machine. Baselines run in the same process, interleaved round by round.
log "virtio-gpu: TRANSFER_TO_HOST_2D 1920x1080 vs Span.CopyTo, $GPU_RUNS rounds ..."
t=$("${BENCH[@]}" gpu-transfer --runs "$GPU_RUNS") || fail "gpu-transfer"
row "gpu TRANSFER_TO_HOST_2D 1080p (MB/s)" "$(field device_mbps "$t")" "$(field copy_mbps "$t") (Span.CopyTo)" \
  "$(ratio "$(field device_mbps "$t")" "$(field copy_mbps "$t")")"
gpu_note="gpu: TRANSFER = QueueNotify of one TRANSFER_TO_HOST_2D of 8,294,400 bytes from 4 KiB guest pages, median of $GPU_RUNS, MB/s (higher is better: ratio < 1 is slower than the plain copy)"
if command -v weston >/dev/null && command -v weston-screenshooter >/dev/null; then
  log "virtio-gpu: RESOURCE_FLUSH -> wl_surface.commit on a headless Weston, full and 64x64 damage, $GPU_RUNS rounds each ..."
  f=$("${BENCH[@]}" gpu-flush --runs "$GPU_RUNS") || fail "gpu-flush"
  for mode in full partial; do
    label=$([[ $mode == full ]] && echo "full 1080p" || echo "64x64 damage")
    for stat in median p90; do
      m=$(field "${mode}_${stat}_us" "$f") b=$(field "${mode}_direct_${stat}_us" "$f")
      row "gpu flush->commit, $label, $stat (us)" "$m" "$b (ScanoutWindow.Present)" "$(ratio "$m" "$b")"
    done
  done
  gpu_note="$gpu_note
gpu: flush->commit = QueueNotify of RESOURCE_FLUSH until it returns, by which time the window has converted the damage into its shm buffer and sent wl_surface.commit (headless Weston, pixman); baseline = ScanoutWindow.Present of the same frame and damage called directly; medians and p90 of $GPU_RUNS rounds in which both frames were committed; rounds dropped because a frame found no free buffer (stashed, not committed): full $(field full_stashed "$f"), 64x64 $(field partial_stashed "$f")"
else
  gpu_note="$gpu_note
gpu: flush->commit skipped: weston is not installed (apt-get install -y weston)"
fi

winsrv_rows
proxy_rows
budget_rows

# --- 5. Linux boot ----------------------------------------------------------------------------
boot_note=""
kernel=$(images/paths.sh small-kernel)
initrd=$(images/paths.sh initramfs)
if [[ $BOOT == 0 ]]; then
  boot_note="boot: skipped (BENCH_BOOT=0)"
elif ((!kvm)); then
  row "boot to \"$BOOT_MARKER\", wall (s)" "-" "skipped: no /dev/kvm" "-"
  boot_note="boot: skipped: no /dev/kvm"
elif [[ ! -f $kernel || ! -f $initrd ]]; then
  boot_note="boot: skipped, no small kernel/initramfs (run images/build.sh)"
else
  if [[ $BOOT != reuse ]]; then
    # QEMU gets exactly the command line MiniVmm builds (its defaults + host workarounds + ours).
    cmdline=$("${AOT[@]}" run --kernel "$P/exit0.elf" --memory 64M --append 'minivmm.test=1' --trace boot 2>&1 >/dev/null \
              | sed -n 's/.*command line: //p')
    [[ -n $cmdline ]] || fail "could not read MiniVmm's kernel command line (--trace boot)"
    log "boot: MiniVmm AOT, small kernel to \"$BOOT_MARKER\" (one run, ~1-2 min here) ..."
    "${BENCH[@]}" until-line --log "$OUT/boot-minivmm.log" --timeout "$BOOT_TIMEOUT" --stop-on 'KVM internal error' -- \
      "${AOT[@]}" run --kernel "$kernel" --initrd "$initrd" --append 'minivmm.test=1' --exit-on-output "$BOOT_MARKER" \
      >"$OUT/boot-minivmm.status" || fail "MiniVmm boot"
    log "boot: QEMU -M pc, same kernel (bzImage), initramfs and command line (one run, ~1.5-3 min here) ..."
    "${BENCH[@]}" until-line --log "$OUT/boot-qemu.log" --timeout "$BOOT_TIMEOUT" --until "$BOOT_MARKER" --stop-on 'KVM internal error' -- \
      qemu-system-x86_64 -M pc -enable-kvm -cpu "$QEMU_CPU" -m 512M -smp 1 -nodefaults -no-user-config -display none \
      -serial stdio -kernel "$kernel" -initrd "$initrd" -append "$cmdline" >"$OUT/boot-qemu.status" || fail "QEMU boot"
  fi
  mb=$(cat "$OUT/boot-minivmm.status") qb=$(cat "$OUT/boot-qemu.status")
  common=$("${BENCH[@]}" last-common "$OUT/boot-qemu.log" "$OUT/boot-minivmm.log") || true
  line=$(sed -n 's/.*line=//p' <<<"$common")
  # The guest's own printk clock at that line: kernel time only (no firmware, no decompression).
  stamp() { grep -F -- "] $line" "$1" | head -1 | sed -n 's/^[^[]*\[ *\([0-9.]*\)\].*/\1/p' | xargs -r printf '%.1f' || true; }
  # seconds (wall, since process start) at the first log line containing TEXT; empty if none
  first_s() { awk -F'\t' -v t="$2" 'index($2, t) { printf "%.1f", $1 / 1000; exit }' "$1"; }
  m_line=$(awk -v v="$(field product_ms "$common")" 'BEGIN { if (v != "-") printf "%.1f", v / 1000 }')
  q_line=$(awk -v v="$(field baseline_ms "$common")" 'BEGIN { if (v != "-") printf "%.1f", v / 1000 }')
  m_stamp=$(stamp "$OUT/boot-minivmm.log"); q_stamp=$(stamp "$OUT/boot-qemu.log")
  m_init=$(first_s "$OUT/boot-minivmm.log" "$BOOT_MARKER")
  q_init=$(first_s "$OUT/boot-qemu.log" "$BOOT_MARKER")
  q_end=$(field reason "$qb")
  [[ $q_end == stop-on ]] && q_end="KVM internal error" || q_end="$q_end $(field exit_ms "$qb")ms"
  row "boot to \"$BOOT_MARKER\", wall (s)" "${m_init:-not reached}" "${q_init:-not reached} (QEMU pc)" "$(ratio "$m_init" "$q_init")"
  row "boot to last line both reach, wall (s)" "$m_line" "$q_line (QEMU pc)" "$(ratio "$m_line" "$q_line")"
  row "  same line, guest printk clock (s)" "$m_stamp" "$q_stamp (QEMU pc)" "$(ratio "$m_stamp" "$q_stamp")"
  m_end=$(field reason "$mb")
  [[ $m_end == exit && $(field exit_code "$mb") == 0 ]] && m_end="--exit-on-output" || m_end="$m_end, exit $(field exit_code "$mb")"
  boot_note="boot: ONE run each (about 1-3 minutes per boot here); last line both reached: \"$line\"; MiniVmm stopped by: $m_end; QEMU stopped by: $q_end
boot: printk clock = the guest's own timestamp on that line (kernel time only: no firmware, no decompression; QEMU -kernel bzImage decompresses in the guest, MiniVmm unpacks it in-process)"
fi

if [[ $BOOT == 0 ]]; then
  guest_note="guest: skipped (BENCH_BOOT=0)"
else
  guest_rows
fi

# --- table ------------------------------------------------------------------------------------
if ((!kvm)); then
  host="no usable KVM device ($kvm_device): the rows that run guests are skipped"
elif [[ -d /sys/module/kvm_pvm ]]; then
  host="kvm_pvm (software KVM: guest kernel code interpreted; timings are not hardware-KVM figures)"
else
  host="hardware KVM"
  for module in kvm_intel kvm_amd; do [[ -d /sys/module/$module ]] && host="hardware KVM ($module)"; done
fi
echo
echo "MiniVmm bench: ratio = MiniVmm / baseline, same run, same machine (lower is better for MiniVmm, except MB/s)"
echo "host: $host; $(nproc) CPUs; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg); $( ((kvm)) && qemu-system-x86_64 --version | head -1 | sed 's/ *Copyright.*//' || echo "no QEMU run")"
printf '| %-46s | %10s | %-30s | %6s |\n' "benchmark" "MiniVmm" "baseline" "ratio"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..32})" "$(printf -- '-%.0s' {1..8})"
printf '%s\n' "${rows[@]}"
if ((kvm)); then
  echo "PIO: $PIO_REPS interleaved rounds, medians; C = in-process time of a $PIO_LARGE-exit loop; MiniVmm = (wall of pio-$PIO_LARGE - wall of pio-$PIO_SMALL) / $((PIO_LARGE - PIO_SMALL)); both run 'out dx,al; dec ecx; jnz' in 64-bit mode"
  echo "start->exit: process start to exit, median of $RUNS after one warm-up; QEMU: -M microvm -bios qemu-exit.bin (reset vector writes isa-debug-exit)"
  echo "RSS: median of 3 (/usr/bin/time); guest RAM is resident only where touched (growth row ~0, so 'minus guest RAM' is negative): raw peak RSS is the VMM's own footprint"
fi
echo "$gpu_note"
[[ -z $winsrv_note ]] || echo "$winsrv_note"
[[ -z $proxy_note ]] || echo "$proxy_note"
echo "$budget_note"
echo "$boot_note"
echo "$guest_note"
