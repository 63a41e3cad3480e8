#!/usr/bin/env bash
# Boots a Linux guest under MiniVmm with its console on this terminal (Ctrl-A x quits).
#   ./run-guest.sh                         the default image (small 6.1 kernel + busybox initramfs)
#   ./run-guest.sh --kernel PATH [--initrd PATH] [any other `minivmm run` option]
#   ./run-guest.sh --debian                the stock Debian 6.1 kernel with its module chain
#   ./run-guest.sh --wayland               the small kernel + the wayland initramfs: /init starts
#       the guest Wayland proxy (minivmm.wayland=1), MiniVmm gets --display wayland and, unless
#       given, --gpu blob=on,contexts=on,hostmem=1G, so guest clients reach the host compositor (Linux
#       keeps every mappable host blob, hence every wl_shm pool the proxy makes, mapped in that BAR).
#       Needs hardware KVM (vmx/svm) to get that far: on kvm_pvm hosts guest user space cannot
#       make system calls, so the boot stops at /init with MiniVmm's diagnosis.
# Builds what is missing first: the NativeAOT binary (make publish) and the images it boots.
set -euo pipefail
cd "$(dirname "$0")"

kernel="" initrd="" image=small wayland=0 gpu="" display="" append=""
args=()
while (($#)); do
	case "$1" in
	--kernel) kernel="$2"; shift 2 ;;
	--kernel=*) kernel="${1#*=}"; shift ;;
	--initrd) initrd="$2"; shift 2 ;;
	--initrd=*) initrd="${1#*=}"; shift ;;
	--debian) image=debian; shift ;;
	--wayland) wayland=1; shift ;;
	--gpu) gpu="$2"; shift 2 ;;
	--gpu=*) gpu="${1#*=}"; shift ;;
	--display) display="$2"; shift 2 ;;
	--display=*) display="${1#*=}"; shift ;;
	--append | -a) append="$2"; shift 2 ;;
	--append=*) append="${1#*=}"; shift ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exec out/minivmm run --help 2>/dev/null || exit 0 ;;
	*) args+=("$1"); shift ;;
	esac
done

if ((wayland)); then
	[[ "$image" == debian ]] && { echo "run-guest.sh: --wayland boots the small kernel, not --debian" >&2; exit 2; }
	[[ -n "$initrd" ]] || { images/build.sh wayland >/dev/null; initrd="$(images/paths.sh wayland-initramfs)"; }
	append="${append:+$append }minivmm.wayland=1"
	gpu="${gpu:-blob=on,contexts=on,hostmem=1G}"
	display="${display:-wayland}"
fi
[[ -n "$gpu" ]] && args+=(--gpu "$gpu")
[[ -n "$display" ]] && args+=(--display "$display")
[[ -n "$append" ]] && args+=(--append "$append")

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
