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
#   vm_snakeoil_key                print the path of the snakeoil key (encrypted, as OVMF ships it)
#   vm_snakeoil_pass               print its passphrase, for a pipe (never argv): 3< <(vm_snakeoil_pass)
#   vm_snakeoil_cert               print the snakeoil certificate path (in OVMF's db)
#   vm_make_uki OUT KERNEL INITRD CMDLINE [--unsigned]
#                                  systemd-stub UKI, signed with the snakeoil key
#   vm_hook OVERLAY NAME [FILE]    install marker hook NAME into OVERLAY (from FILE,
#                                  or tests/vm/hooks/NAME, or stdin when FILE is -)
#   vm_stage_tree STAGE TREE [OVERLAY...]
#                                  STAGE (new dir) = TREE + overlays in order (hard links)
#   vm_mkroot NAME ARGS...         tests/vm/mkroot, stdout parsed into VM_<NAME>_* variables
#   vm_mkimage ARGS...             tests/vm/mkimage, stdout parsed into VM_IMG_* variables
#   vm_esp_put IMG SRC DEST        replace/add file DEST on the ESP of an existing image
#   vm_part_find IMG KEY VALUE     print "<start byte> <size bytes> <partno>" of the
#                                  first GPT partition whose KEY (label, type, uuid)
#                                  is VALUE; type takes a GUID or esp|root|root-verity|var
#                                  (the state partition: label sealroot-state)
#   vm_dps_partuuids ROOTHASH      print the DPS data and hash PARTUUIDs (two lines)
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

# The snakeoil key stays encrypted on disk, as the integrator's own would:
# its passphrase (published with it, /usr/share/doc/ovmf/README.Debian)
# goes to mkinitramfs or openssl through a pipe, and the decrypted key to
# sbsign through another; no file holds it.
vm_snakeoil_key() { echo /usr/share/ovmf/PkKek-1-snakeoil.key; }

vm_snakeoil_pass() { printf 'snakeoil\n'; }

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
		sbsign --key <(openssl pkey -in "$(vm_snakeoil_key)" -passin fd:3 3< <(vm_snakeoil_pass)) \
			--cert "$(vm_snakeoil_cert)" --output "$out" "$d/uki.efi" 2>/dev/null ||
			{ rm -rf "$d"; vm_die "sbsign failed"; }
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

# Stage a root tree without copying: hard links to TREE (instant, no space),
# then each overlay extracted by tar, which unlinks an existing file before
# writing it, so an overlay never writes through a link into the cached tree.
# --keep-directory-symlink keeps /lib -> usr/lib and friends.
vm_stage_tree() {	# STAGE TREE [OVERLAY...]
	local stage=$1 tree=$2 o
	shift 2
	[ -d "$tree" ] || vm_die "tree '$tree' is not a directory"
	[ ! -e "$stage" ] || vm_die "stage '$stage' already exists"
	cp -al -- "$tree" "$stage" 2>/dev/null ||
		{ rm -rf -- "$stage"; cp -a --reflink=auto -- "$tree" "$stage"; } ||
		vm_die "cannot stage '$tree'"
	for o in "$@"; do
		[ -d "$o" ] || vm_die "overlay '$o' is not a directory"
		tar --xattrs --xattrs-include='*' -C "$o" -cf - . |
			tar --xattrs --xattrs-include='*' -C "$stage" -xf - --keep-directory-symlink ||
			vm_die "cannot apply overlay '$o'"
	done
}

vm_parse_kv() {	# PREFIX < KEY=VALUE lines
	local line
	while IFS= read -r line; do
		case "$line" in
		[A-Z]*=*) printf -v "$1${line%%=*}" '%s' "${line#*=}" ;;
		esac
	done
}

vm_mkimage() {
	local out
	out=$("$VM_DIR/mkimage" "$@") || vm_die "tests/vm/mkimage failed"
	vm_parse_kv VM_IMG_ <<<"$out"
}

vm_mkroot() {	# NAME ARGS...  -> VM_<NAME>_ROOT_IMAGE, _HASH_IMAGE, _ROOTHASH, ...
	local name=$1 out
	shift
	[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || vm_die "vm_mkroot: bad name '$name'"
	out=$("$VM_DIR/mkroot" "$@") || vm_die "tests/vm/mkroot failed"
	vm_parse_kv "VM_${name}_" <<<"$out"
}

vm_esp_put() { "$VM_DIR/esp-put" "$@" || vm_die "tests/vm/esp-put failed"; }

# GPT lookups read the table with sfdisk -d (no loop device, no kernel).
vm_part_find() {	# IMG label|type|uuid VALUE -> "start_bytes size_bytes partno"
	local img=$1 key=$2 want=$3 dump
	case "$key:$want" in
	type:esp) want=c12a7328-f81f-11d2-ba4b-00a0c93ec93b ;;
	type:root) want=4f68bce3-e8cd-4db1-96e7-fbcaf984b709 ;;
	type:root-verity) want=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5 ;;
	type:var) want=4d21b016-b534-45c2-a9fb-5c16e091fd2d ;;
	label:*|type:*|uuid:*) ;;
	*) vm_die "vm_part_find: key must be label, type or uuid" ;;
	esac
	dump=$(sfdisk -d -- "$img" 2>/dev/null) || return 1
	awk -v key="$key" -v want="$want" '
		BEGIN { want = tolower(want) }
		/^sector-size:/ { ss = $2 }
		/ : start=/ {
			line = $0
			sub(/^[^:]* : /, "", line)
			n = split(line, f, /, */)
			delete kv
			for (i = 1; i <= n; i++) {
				k = f[i]; sub(/=.*/, "", k); gsub(/ /, "", k)
				v = f[i]; sub(/^[^=]*= */, "", v)
				kv[k] = v
			}
			name = kv["name"]; gsub(/^"|"$/, "", name)
			val = key == "label" ? name : tolower(kv[key])
			partno++
			if (val == want) {
				if (!ss) ss = 512
				printf "%d %d %d\n", kv["start"] * ss, kv["size"] * ss, partno
				found = 1; exit
			}
		}
		END { exit !found }' <<<"$dump"
}

# Discoverable Partitions Specification: the root partition's PARTUUID is
# the first 128 bits of the root hash, the verity partition's the last 128,
# each written as a UUID string of those bytes in order (systemd's
# dissect-image: memcpy into an sd_id128_t, compared with the GPT UUID).
vm_dps_partuuids() {	# ROOTHASH -> two lines: data PARTUUID, hash PARTUUID
	local h=${1,,}
	[[ "$h" =~ ^[0-9a-f]+$ ]] && [ ${#h} -ge 32 ] && [ $((${#h} % 2)) = 0 ] ||
		vm_die "root hash '$1' is not an even number (>= 32) of hex digits"
	vm_hex_uuid "${h:0:32}"
	vm_hex_uuid "${h: -32}"
}

vm_hex_uuid() {	# 32 hex digits -> 8-4-4-4-12
	echo "${1:0:8}-${1:8:4}-${1:12:4}-${1:16:4}-${1:20:12}"
}

vm_run() { "$VM_DIR/run" "$@"; }
