#!/usr/bin/env bash
# Boots a Linux guest under MiniVmm with its console on this terminal (Ctrl-A x quits, Ctrl-A h lists the keys).
#   ./run-guest.sh                         the default image (small 6.1 kernel + busybox initramfs)
#   ./run-guest.sh --kernel PATH [--initrd PATH] [any other `minivmm run` option]
#       PATH is taken from the directory you run this in; --kernel DIR of a kernel build tree
#       boots DIR/arch/x86/boot/bzImage and, when the tree has modules and no --initrd is given, the
#       default initramfs plus its modules (images/build-tree.sh: /init loads virtio-gpu's chain).
#       -k -i -a -m -c are --kernel --initrd --append --memory --cpus.
#   ./run-guest.sh --share DIR[,tag=NAME][,ro]   also mount host directory DIR at /mnt/NAME (virtio-9p; repeatable)
#   ./run-guest.sh --root-share DIR [-a init=/bin/sh]   boot with host directory DIR as the read-only root, no initramfs
#   ./run-guest.sh --debian                the stock Debian 6.1 kernel with its module chain
#   ./run-guest.sh --wayland               the small kernel + the wayland initramfs: /init starts
#       the guest Wayland proxy (minivmm.wayland=1), MiniVmm gets --display wayland and, unless
#       given, --gpu blob=on,contexts=on,hostmem=1G, so guest clients reach the host compositor (Linux
#       keeps every mappable host blob, hence every wl_shm pool the proxy makes, mapped in that BAR).
#       Works on hardware KVM and, slowly, on kvm_pvm hosts (the small kernel carries the patch that
#       completes guest system calls there: docs/guest-syscalls-on-kvm-pvm.md).
#   ./run-guest.sh --dry-run ...           print the image steps and the minivmm command, build nothing
# Builds what is missing first: the NativeAOT binary (make publish) and every image it boots.
set -euo pipefail
# Never cd: every path argument (kernel, initrd, --serial file:, screenshots) stays relative to the
# caller's directory, and the checkout's own files are reached through $here.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "run-guest.sh: $*" >&2; exit 2; }
# need OPTION ARGC: OPTION must be followed by a value.
need() { (($2 >= 2)) || die "$1 needs a value"; }

kernel="" tree="" initrd="" rootshare="" image=small wayland=0 dry=0 gpu="" display="" append=""
args=()
while (($#)); do
	case "$1" in
	--kernel | -k) need "$1" $#; kernel="$2"; shift 2 ;;
	--kernel=*) kernel="${1#*=}"; shift ;;
	--initrd | -i) need "$1" $#; initrd="$2"; shift 2 ;;
	--initrd=*) initrd="${1#*=}"; shift ;;
	--root-share) need "$1" $#; rootshare="$2"; shift 2 ;;
	--root-share=*) rootshare="${1#*=}"; shift ;;
	--debian) image=debian; shift ;;
	--wayland) wayland=1; shift ;;
	--dry-run) dry=1; shift ;;
	--gpu) need "$1" $#; gpu="$2"; shift 2 ;;
	--gpu=*) gpu="${1#*=}"; shift ;;
	--display) need "$1" $#; display="$2"; shift 2 ;;
	--display=*) display="${1#*=}"; shift ;;
	--append | -a) need "$1" $#; append="$2"; shift 2 ;;
	--append=*) append="${1#*=}"; shift ;;
	-h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exec "$here/out/minivmm" run --help 2>/dev/null || exit 0 ;;
	# -m/-c and every other `minivmm run` option go through as they are, with their values.
	*) args+=("$1"); shift ;;
	esac
done

# The caller's paths, made absolute before anything else; a kernel build tree means its bzImage.
if [[ -n "$kernel" ]]; then
	[[ -e "$kernel" ]] || die "--kernel $kernel not found (from $PWD)"
	if [[ -d "$kernel" ]]; then
		[[ -f "$kernel/arch/x86/boot/bzImage" ]] || die "--kernel $kernel is a directory without arch/x86/boot/bzImage (build the kernel first, or give the file)"
		tree="$(realpath "$kernel")"
		kernel="$kernel/arch/x86/boot/bzImage"
	fi
	kernel="$(realpath "$kernel")"
	[[ "$image" == debian ]] && die "--debian boots the Debian kernel: leave out --kernel"
fi
if [[ -n "$initrd" ]]; then
	[[ -f "$initrd" ]] || die "--initrd $initrd not found (from $PWD)"
	initrd="$(realpath "$initrd")"
fi

# The images to build, and the paths of what they produce (images/paths.sh is the one place for those).
steps=()
image_path() { "$here/images/paths.sh" "$1"; }
if ((wayland)); then
	[[ "$image" == debian ]] && die "--wayland boots the small kernel, not --debian"
	[[ -n "$initrd" ]] || { steps+=(wayland); initrd="$(image_path wayland-initramfs)"; }
	append="${append:+$append }minivmm.wayland=1"
	gpu="${gpu:-blob=on,contexts=on,hostmem=1G}"
	display="${display:-wayland}"
fi
if [[ "$image" == debian ]]; then
	steps+=(debian)
	kernel="$(image_path debian-kernel)"
	initrd="${initrd:-$(image_path debian-initramfs)}"
else
	[[ -n "$kernel" ]] || { steps+=(small); kernel="$(image_path small-kernel)"; }
	if [[ -z "$initrd" && -z "$rootshare" ]]; then
		steps+=(initramfs)
		initrd="$(image_path initramfs)"
		# A build tree with modules: they follow the default initramfs (a tree without boots it as is).
		if [[ -n "$tree" ]] && tree_initrd="$("$here/images/paths.sh" tree-initramfs "$tree")"; then
			steps+=("tree=$tree")
			initrd="$tree_initrd"
		fi
	fi
fi
[[ -n "$gpu" ]] && args+=(--gpu "$gpu")
[[ -n "$display" ]] && args+=(--display "$display")
[[ -n "$append" ]] && args+=(--append "$append")
if [[ -n "$rootshare" ]]; then
	# The host directory is the root (and its /init or init= runs): no initramfs.
	[[ -z "$initrd" ]] || die "--root-share boots without an initramfs: drop --initrd"
	command=("$here/out/minivmm" run --kernel "$kernel" --root-share "$rootshare" "${args[@]}")
else
	command=("$here/out/minivmm" run --kernel "$kernel" --initrd "$initrd" "${args[@]}")
fi

if ((dry)); then
	echo "images: ${steps[*]}"
	printf 'run:'; printf ' %q' "${command[@]}"; echo
	exit 0
fi
make -s -C "$here" publish >&2
((${#steps[@]} == 0)) || "$here/images/build.sh" "${steps[@]}" >/dev/null
exec "${command[@]}"
