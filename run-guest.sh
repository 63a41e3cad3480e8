#!/usr/bin/env bash
# Boots a Linux guest under MiniVmm with its console on this terminal (Ctrl-A x quits).
#   ./run-guest.sh                         the default image (small 6.1 kernel + busybox initramfs)
#   ./run-guest.sh --kernel PATH [--initrd PATH] [any other `minivmm run` option]
#   ./run-guest.sh --debian                the stock Debian 6.1 kernel with its module chain
# Builds what is missing first: the NativeAOT binary (make publish) and the default images.
set -euo pipefail
cd "$(dirname "$0")"

kernel="" initrd="" image=small
args=()
while (($#)); do
	case "$1" in
	--kernel) kernel="$2"; shift 2 ;;
	--kernel=*) kernel="${1#*=}"; shift ;;
	--initrd) initrd="$2"; shift 2 ;;
	--initrd=*) initrd="${1#*=}"; shift ;;
	--debian) image=debian; shift ;;
	-h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exec out/minivmm run --help 2>/dev/null || exit 0 ;;
	*) args+=("$1"); shift ;;
	esac
done

make -s publish >&2

if [[ -z "$kernel" ]]; then
	images/build.sh "$image" >/dev/null
	if [[ "$image" == debian ]]; then
		kernel="$(images/paths.sh debian-kernel)"
		initrd="${initrd:-$(images/paths.sh debian-initramfs)}"
	else
		kernel="$(images/paths.sh small-kernel)"
		initrd="${initrd:-$(images/paths.sh initramfs)}"
	fi
elif [[ -z "$initrd" ]]; then
	images/build.sh initramfs >/dev/null
	initrd="$(images/paths.sh initramfs)"
fi

exec out/minivmm run --kernel "$kernel" --initrd "$initrd" "${args[@]}"
