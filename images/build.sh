#!/usr/bin/env bash
# MiniVmm guest images, built from Debian packages into a cache outside git.
#   images/build.sh [--plan|--check] [all|initramfs|small|debian|wayland|tree=DIR]...   (default all = initramfs + small)
# wayland (the initramfs with the NativeAOT guest Wayland proxy) is never part of all. tree=DIR is the
# initramfs plus the modules of kernel build tree DIR (build-tree.sh; it implies initramfs).
# Cache: ${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/images (see paths.sh).
# Each step is a no-op when its stamp matches its inputs. Prints the produced paths on stdout,
# one "name: path" per line; --plan prints them without building anything (run-guest.sh's test
# checks with it that every path it boots is produced by the steps it asks for); --check builds
# nothing either and prints "STEP: fresh" or "STEP: stale", exit 1 when any is stale.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=paths.sh
. "$here/paths.sh"

usage() { echo "usage: $0 [--plan|--check] [all|initramfs|small|debian|wayland|tree=DIR]..."; }

plan=0 check=0 steps=()
for arg in "$@"; do
  case "$arg" in
    --plan) plan=1 ;;
    --check) check=1 ;;
    all) steps+=(initramfs small) ;;
    initramfs | small | debian | wayland) steps+=("$arg") ;;
    tree=?*)
      [[ -d "${arg#tree=}" ]] || { echo "images/build.sh: $arg: not a directory" >&2 && exit 2; }
      steps+=(initramfs "tree=$(realpath "${arg#tree=}")") ;;
    -h | --help) usage && exit 0 ;;
    *) echo "images/build.sh: unknown step '$arg' (steps: all initramfs small debian wayland, --plan or --check)" >&2 && exit 2 ;;
  esac
done
((${#steps[@]})) || steps=(initramfs small)
# run_step STEP: the step's script (tree=DIR passes DIR on).
run_step() {
  case "$1" in
    tree=*) "$here/build-tree.sh" "${1#tree=}" ;;
    *) "$here/build-$1.sh" ;;
  esac
}
# Each step once, in the order first asked for.
mapfile -t steps < <(printf '%s\n' "${steps[@]}" | awk '!seen[$0]++')

if ((check)); then
  stale=0
  for step in "${steps[@]}"; do
    status=0
    MINIVMM_IMAGES_CHECK=1 run_step "$step" 2>/dev/null || status=$?
    case "$status" in
      0) echo "$step: fresh" ;;
      3) echo "$step: stale" && stale=1 ;;
      *) echo "images/build.sh: checking $step failed (status $status)" >&2 && exit 1 ;;
    esac
  done
  exit "$stale"
fi

# A line per step with its elapsed time, and one a minute while a step runs, so that a first
# kernel build (about 10 minutes on 2 cores) is never silent.
if ((!plan)); then
  for step in "${steps[@]}"; do
    step_start=$SECONDS
    printf 'images: %s: start (%ds so far)\n' "$step" "$SECONDS" >&2
    # sleep gets /dev/null: killing the ticker leaves it to run out, and it must not hold our stdout and
    # stderr open that long (a caller reading them to the end would wait up to a minute).
    (while sleep 60 </dev/null >/dev/null 2>&1; do printf 'images: %s: still running, %ds\n' "$step" $((SECONDS - step_start)) >&2; done) &
    ticker=$!
    status=0
    run_step "$step" || status=$?
    kill "$ticker" 2>/dev/null
    wait "$ticker" 2>/dev/null || true
    ((status == 0)) || exit "$status"
    printf 'images: %s: done in %ds (%ds so far)\n' "$step" $((SECONDS - step_start)) "$SECONDS" >&2
  done
fi

for step in "${steps[@]}"; do
  case "$step" in
    initramfs) names=(initramfs) ;;
    small) names=(small-kernel small-vmlinux small-config) ;;
    debian) names=(debian-kernel debian-initramfs) ;;
    wayland) names=(wayland-initramfs) ;;
    tree=*)
      # A tree built without modules boots the default initramfs: nothing of its own to list.
      path="$(minivmm_tree_initramfs "${step#tree=}")" && echo "tree-initramfs: $path"
      continue ;;
  esac
  for n in "${names[@]}"; do echo "$n: $(minivmm_image_path "$n")"; done
done
