# shellcheck shell=bash
# Shared helpers for VM scenario scripts. Source it:
#   . "$(dirname "$0")/../vm/lib.sh"     (or the path to tests/vm/lib.sh)
# Every helper dies with a message on error; none touches the host outside
# $VM_CACHE and the work directories it is given.
#
#   vm_cache                       print the cache directory
#   vm_kernel                      set KERNEL, MODDIR, KVER (tests/vm/kernel)
#   vm_basetree                    set VM_TREE (tests/vm/basetree)
#   vm_workdir NAME                print a fresh work dir: ${SEALROOT_VM_WORK:-<repo>/build/vm}/NAME
#   vm_snakeoil_key                print the path of the decrypted snakeoil key (cached, 0600)
#   vm_snakeoil_cert               print the snakeoil certificate path (in OVMF's db)
#   vm_make_uki OUT KERNEL INITRD CMDLINE [--unsigned]
#                                  systemd-stub UKI, signed with the snakeoil key
#   vm_hook OVERLAY NAME [FILE]    install marker hook NAME into OVERLAY (from FILE,
#                                  or tests/vm/hooks/NAME, or stdin when FILE is -)
#   vm_mkimage ARGS...             tests/vm/mkimage, stdout parsed into VM_IMG_* variables
#   vm_run ARGS...                 tests/vm/run (returns its status)
#   VM_MARKER_OK                   --expect arguments for a clean boot to the marker

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_REPO=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${SEALROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealroot}
VM_STUB=${SEALROOT_EFI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
VM_MARKER_OK=(--expect 'SEALROOT-MARKER: booted state=running'
	--expect 'SEALROOT-MARKER: failed=none' --expect 'SEALROOT-MARKER: done')

vm_die() { echo "vm: $*" >&2; exit 1; }

vm_cache() { echo "$VM_CACHE"; }

vm_kernel() {
	local out
	out=$("$VM_DIR/kernel") || vm_die "tests/vm/kernel failed"
	KERNEL=$(sed -n 's/^KERNEL=//p' <<<"$out")
	MODDIR=$(sed -n 's/^MODDIR=//p' <<<"$out")
	KVER=${MODDIR##*/}
	[ -f "$KERNEL" ] && [ -d "$MODDIR" ] || vm_die "tests/vm/kernel gave no kernel"
}

vm_basetree() {
	VM_TREE=$("$VM_DIR/basetree" | tail -n1) || vm_die "tests/vm/basetree failed"
	[ -d "$VM_TREE" ] || vm_die "tests/vm/basetree gave no tree"
}

vm_workdir() {
	local d=${SEALROOT_VM_WORK:-$VM_REPO/build/vm}/$1
	rm -rf -- "$d"
	mkdir -p -- "$d"
	echo "$d"
}

vm_snakeoil_cert() { echo /usr/share/ovmf/PkKek-1-snakeoil.pem; }

vm_snakeoil_key() {
	local k=$VM_CACHE/keys/snakeoil.key tmp
	if [ ! -s "$k" ]; then
		mkdir -p "$VM_CACHE/keys"
		chmod 700 "$VM_CACHE/keys"
		tmp=$(mktemp "$VM_CACHE/keys/.key.XXXXXX")
		openssl rsa -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
			-out "$tmp" 2>/dev/null || { rm -f "$tmp"; vm_die "cannot decrypt the snakeoil key"; }
		chmod 600 "$tmp"
		mv -f "$tmp" "$k"
	fi
	echo "$k"
}

# UKI with the section layout systemd-stub 252 expects (ukify's addresses).
vm_make_uki() {	# OUT KERNEL INITRD CMDLINE [--unsigned]
	local out=$1 kernel=$2 initrd=$3 cmdline=$4 sign=1 d
	[ "${5:-}" != --unsigned ] || sign=0
	[ -f "$kernel" ] || vm_die "kernel '$kernel' not found"
	[ -f "$initrd" ] || vm_die "initrd '$initrd' not found"
	d=$(mktemp -d "${TMPDIR:-/tmp}/vm-uki.XXXXXX")
	printf 'ID=sealroot-test\nNAME="sealroot VM test"\n' >"$d/osrel"
	printf '%s' "$cmdline" >"$d/cmdline"
	objcopy \
		--add-section .osrel="$d/osrel" --change-section-vma .osrel=0x20000 \
		--add-section .cmdline="$d/cmdline" --change-section-vma .cmdline=0x30000 \
		--add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
		--add-section .initrd="$initrd" --change-section-vma .initrd=0x3000000 \
		"$VM_STUB" "$d/uki.efi" || { rm -rf "$d"; vm_die "objcopy failed"; }
	if [ "$sign" = 1 ]; then
		sbsign --key "$(vm_snakeoil_key)" --cert "$(vm_snakeoil_cert)" \
			--output "$out" "$d/uki.efi" 2>/dev/null || { rm -rf "$d"; vm_die "sbsign failed"; }
	else
		mv -f "$d/uki.efi" "$out"
	fi
	rm -rf "$d"
}

vm_hook() {	# OVERLAY NAME [FILE|-]
	local dst=$1/usr/lib/sealroot-test/hooks.d src=${3:-$VM_DIR/hooks/$2}
	mkdir -p "$dst"
	if [ "$src" = - ]; then
		cat >"$dst/$2"
	else
		[ -f "$src" ] || vm_die "hook '$src' not found"
		cp -- "$src" "$dst/$2"
	fi
	chmod 755 "$dst/$2"
}

vm_mkimage() {
	local out line
	out=$("$VM_DIR/mkimage" "$@") || vm_die "tests/vm/mkimage failed"
	while IFS= read -r line; do
		case "$line" in
		[A-Z]*=*) printf -v "VM_IMG_${line%%=*}" '%s' "${line#*=}" ;;
		esac
	done <<<"$out"
}

vm_run() { "$VM_DIR/run" "$@"; }
