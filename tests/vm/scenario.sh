# shellcheck shell=bash
# Helpers for tests/vm/scenarios/*: each scenario builds its own UKI with
# the real packer (mkinitramfs) and the real sealroot (build/init), boots
# it, and prints "PASS name" / "FAIL name: why" lines judged on the
# serial log.
#
#   sc_begin NAME               work dir in $W, kernel, base tree, policies copy in $W/policies
#   sc_conf KEY VALUE           set a key in $W/policies/sealroot.conf
#   sc_unverified_root          the explicit switch for a plain root (development)
#   sc_unchecked_cmdline        next sc_uki: the linter sees the file, not --cmdline
#   sc_uki OUT [ARGS...]        mkinitramfs with the test kernel and snakeoil key
#   sc_check NAME CMD...        PASS/FAIL on a command's status
#   sc_log_has NAME REGEX       PASS/FAIL on a line in $LOG
#   sc_summary                  print sealroot's summary line from $LOG
#   sc_flip FILE OFFSET         XOR one byte of FILE with 0xff, in place
#   sc_put_le64 FILE OFFSET N   write N as 8 little-endian bytes at OFFSET
#   sc_state_begin [unseal-check]  state hook in the root overlay, 'state' and
#                               'state.fsuuid' (the IMA policy's) configured
#   sc_policy_fsuuid            the state volume UUID the IMA policy appraises
#   sc_state_sha DISK           sha256 of the state partition
#   sc_state_get/put DISK FILE  copy the state partition out / in
#   sc_recovery_key LOG         the recovery key sealroot displayed once
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# lsm= without bpf: with the BPF LSM active, Debian's 6.1 kernel oopses
# creating a file once EVM's HMAC key is loaded (sealroot refuses EVM then).
SC_LSM="lsm=landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor"
SC_CMDLINE_BASE="console=ttyS0 printk.time=1 ro $SC_LSM"
# A plain (unverified) root, by its fixed PARTLABEL from tests/vm/mkimage;
# sealroot boots it only after sc_unverified_root (production never does).
SC_CMDLINE_PLAIN="$SC_CMDLINE_BASE root=PARTLABEL=sealroot-root"
SC_TOOL_DIR=''
# A well-formed root hash of no disk: production configs need one, and a
# scenario that fails before the wait (or waits in vain) can use it.
SC_ROOTHASH_NONE=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

SC_FAILS=0

sc_begin() {
	SC_NAME=$1
	W=$(vm_workdir "$SC_NAME")
	LOG=$W/serial.log
	vm_kernel
	vm_basetree
	cp -r "$VM_REPO/policies" "$W/policies"
	sc_conf failure.action poweroff
	sc_conf failure.delay 0
	echo "$SC_NAME: work dir $W"
}

sc_conf() {	# KEY VALUE
	local f=$W/policies/sealroot.conf
	if grep -q "^$1 *=" "$f"; then
		sed -i "s|^$1 *=.*|$1 = $2|" "$f"
	else
		printf '%s = %s\n' "$1" "$2" >>"$f"
	fi
}

# A plain, unverified root: no root hash, so it takes root.verity =
# optional, which sealroot allows only in development mode.
sc_unverified_root() {
	sc_conf mode development
	sc_conf root.verity optional
}

# For scenarios that prove the device refuses what mkinitramfs would: a
# tool dir whose sealroot-lint and sealroot-audit drop --cmdline, so the
# UKI carries a command line the build did not check.
sc_unchecked_cmdline() {
	local t
	SC_TOOL_DIR=$W/tools
	mkdir -p "$SC_TOOL_DIR"
	ln -sf "$VM_REPO/build/host/sealroot-mkcpio" "$SC_TOOL_DIR/sealroot-mkcpio"
	ln -sf "$VM_REPO/build/host/sealroot-imalint" "$SC_TOOL_DIR/sealroot-imalint"
	for t in sealroot-lint sealroot-audit; do
		cat >"$SC_TOOL_DIR/$t" <<TOOL
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
	if [ "\$1" = --cmdline ]; then shift 2; else args+=("\$1"); shift; fi
done
exec "$VM_REPO/build/host/$t" "\${args[@]}"
TOOL
		chmod +x "$SC_TOOL_DIR/$t"
	done
}

sc_uki() {	# OUT [mkinitramfs args...]; signed unless --unsigned is given
	local out=$1 sign=()
	shift
	[[ " $* " == *" --unsigned "* ]] ||
		sign=(--key "$(vm_snakeoil_key)" --key-pass-fd 3 --cert "$(vm_snakeoil_cert)")
	"$VM_REPO/mkinitramfs" --init "$VM_REPO/build/init" \
		--tool-dir "${SC_TOOL_DIR:-$VM_REPO/build/host}" --policies "$W/policies" \
		--kernel "$KERNEL" --moddir "$MODDIR" "${sign[@]}" \
		--output "$out" "$@" 3< <(vm_snakeoil_pass)
}

sc_pass() { echo "PASS $SC_NAME/$1"; }
sc_fail() { echo "FAIL $SC_NAME/$1: $2"; SC_FAILS=$((SC_FAILS + 1)); }

sc_check() {	# NAME CMD...
	local name=$1
	shift
	if "$@"; then sc_pass "$name"; else sc_fail "$name" "'$*' failed (log: ${LOG:-none})"; fi
}

sc_log_has() {	# NAME REGEX
	if grep -Eq -- "$2" "$LOG"; then
		sc_pass "$1"
	else
		sc_fail "$1" "no line matching '$2' in $LOG"
	fi
}

sc_log_lacks() {	# NAME REGEX
	if grep -Eq -- "$2" "$LOG"; then
		sc_fail "$1" "unexpected line: $(grep -Em1 -- "$2" "$LOG")"
	else
		sc_pass "$1"
	fi
}

sc_summary() {
	grep -Eo 'sealroot: done: .*' "$LOG" | head -n 1 | tr -d '\r'
}

sc_end() {
	exit $((SC_FAILS > 0))
}

# A verified root: tests/vm/mkroot --verity in $W/$1 (default "root") from
# the base tree, with the verity and slot marker hooks; sets ROOT_IMAGE,
# HASH_IMAGE, ROOTHASH, ROOT_PARTUUID, HASH_PARTUUID, FSTYPE.
sc_verity_root() {	# [DIR-NAME [FSTYPE [SLOT]]]
	local dir=$W/${1:-root} fstype=${2:-ext4} slot=${3:-A} line
	mkdir -p "$dir/overlay/etc"
	vm_hook "$dir/overlay" verity
	vm_hook "$dir/overlay" slot
	echo "$slot" >"$dir/overlay/etc/sealroot-slot"
	while IFS= read -r line; do
		case $line in
		[A-Z]*=*) printf -v "${line%%=*}" '%s' "${line#*=}" ;;
		esac
	done < <("$VM_DIR/mkroot" --tree "$VM_TREE" --overlay "$dir/overlay" \
		--out-dir "$dir" --fstype "$fstype" --verity)
	[ -n "${ROOTHASH:-}" ] || vm_die "mkroot gave no root hash"
}

# A disk with the verified root above as the DPS root and root-verity
# partitions (PARTUUIDs from the root hash); more mkimage arguments (the
# state partition) after OUT.
sc_verity_disk() {	# UKI OUT [mkimage args...]
	local uki=$1 out=$2
	shift 2
	vm_mkimage --uki "$uki" --out "$out" --root-image "$ROOT_IMAGE" \
		--root-partuuid "$ROOT_PARTUUID" --verity-image "$HASH_IMAGE" \
		--verity-partuuid "$HASH_PARTUUID" "$@"
}

# ---- the sealed state ----

# The root's overlay gets the state hook (and the barrier check) before
# sc_verity_root builds it; the config names the state partition.
sc_state_begin() {	# [unseal-check]
	mkdir -p "$W/root/overlay/etc"
	vm_hook "$W/root/overlay" state
	[ "${1:-}" != unseal-check ] || : >"$W/root/overlay/etc/sealroot-test-unseal"
	sc_conf state PARTLABEL=sealroot-state
}

# The state volume's UUID the shipped IMA policy appraises (appraise
# fsuuid=): mkinitramfs refuses a state volume whose state.fsuuid differs.
sc_policy_fsuuid() {
	awk '$1 == "appraise" { for (i = 2; i <= NF; i++) if ($i ~ /^fsuuid=/) { print substr($i, 8); exit } }' \
		"$W/policies/ima-policy"
}

# The state partition of a disk: "OFFSET SIZE" in bytes.
sc_state_part() {	# DISK
	local start size _
	read -r start size _ <<<"$(vm_part_find "$1" label sealroot-state)"
	[ -n "$size" ] || vm_die "no state partition on $1"
	echo "$start $size"
}

# sha256 of the state partition of DISK (untouched-ness).
sc_state_sha() {	# DISK
	local off size
	read -r off size <<<"$(sc_state_part "$1")"
	dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none |
		sha256sum | cut -d' ' -f1
}

# Copy the state partition of DISK out to FILE, or FILE into it.
sc_state_get() {	# DISK FILE
	local off size
	read -r off size <<<"$(sc_state_part "$1")"
	dd if="$1" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none
}
sc_state_put() {	# DISK FILE
	local off size
	read -r off size <<<"$(sc_state_part "$1")"
	[ "$(stat -c %s "$2")" -le "$size" ] || vm_die "$2 does not fit the state partition"
	dd if="$2" of="$1" bs=1M oflag=seek_bytes seek="$off" conv=notrunc status=none
}

# The recovery key sealroot showed once in LOG (its one display), or "".
sc_recovery_key() {	# LOG
	tr -d '\r' <"$1" | grep -Eo '^    ([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$' |
		head -n 1 | tr -d ' '
}

sc_flip() {	# FILE OFFSET
	local old
	old=$(od -An -tu1 -j "$2" -N1 -- "$1" | tr -d ' ')
	[ -n "$old" ] || vm_die "cannot read byte $2 of $1"
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' $((old ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}

sc_put_le64() {	# FILE OFFSET VALUE
	local i bytes=
	for i in 0 1 2 3 4 5 6 7; do
		bytes+=$(printf '\\%03o' $((($3 >> (8 * i)) & 255)))
	done
	# shellcheck disable=SC2059
	printf "$bytes" | dd of="$1" bs=1 seek="$2" count=8 conv=notrunc status=none
}

# ---- integrity of what runs (EVM, IMA, personalization) ----

SC_FSUUID=5e1f0a2b-7c3d-4e5f-8a9b-c0d1e2f3a4b5
# The kernel's boot policy until sealroot loads the packed one: tcb
# measures what is read by path, the packed policy among it. rootfstype=
# (any) makes the initramfs a ramfs, which tcb measures (on tmpfs, the
# default, tcb measures nothing of the initramfs, not even the modules).
SC_IMA_BOOT="ima_policy=tcb rootfstype=erofs"
SC_FACTORY=/usr/share/sealroot-factory

# The state volume as sc_state_begin, plus: its file system UUID, an IMA
# policy that appraises exactly it (hash, with EVM) and measures what
# runs, a test certificate for _ima, and a factory tree in the root
# (/var/lib/factory-test: plain files, three to tamper with, a file
# signed with the certificate's key, a symlink, a directory owned by
# 1000:1000) with the integrity hook. Before sc_verity_root.
sc_integrity_begin() {	# [FACTORY-MB]: also a file of that many MiB (power cuts)
	local f=$W/root/overlay$SC_FACTORY/lib/factory-test
	sc_state_begin
	vm_hook "$W/root/overlay" integrity
	sc_conf state.fsuuid "$SC_FSUUID"
	sc_conf state.factory "$SC_FACTORY"
	sc_conf evm on
	sc_conf ima on
	cat >"$W/policies/ima-policy" <<POLICY
# Test policy: pseudo file systems left alone, what runs measured, the
# state volume appraised by hash with EVM.
dont_measure fsmagic=0x9fa0
dont_measure fsmagic=0x62656572
dont_measure fsmagic=0x64626720
dont_measure fsmagic=0x1021994
dont_measure fsmagic=0x73636673
dont_measure fsmagic=0x27e0eb
dont_measure fsmagic=0x63677270
dont_appraise fsmagic=0x9fa0
dont_appraise fsmagic=0x62656572
dont_appraise fsmagic=0x64626720
dont_appraise fsmagic=0x1021994
dont_appraise fsmagic=0x73636673
dont_appraise fsmagic=0x27e0eb
dont_appraise fsmagic=0x63677270
measure func=BPRM_CHECK
measure func=MMAP_CHECK mask=MAY_EXEC
measure func=MODULE_CHECK
measure func=FIRMWARE_CHECK
measure func=POLICY_CHECK
appraise fsuuid=$SC_FSUUID
POLICY
	mkdir -p "$W/policies/keys/ima" "$f/sub"
	openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=sealroot-test-ima \
		-keyout "$W/ima-key.pem" -out "$W/ima-cert.pem" \
		-addext keyUsage=digitalSignature -addext subjectKeyIdentifier=hash \
		>/dev/null 2>&1 || vm_die "openssl could not make the IMA test certificate"
	openssl x509 -in "$W/ima-cert.pem" -outform DER -out "$W/policies/keys/ima/test.der"
	printf 'plain file\n' >"$f/plain"
	for n in tamper-content tamper-ima tamper-mode; do
		printf 'a file to change offline: %s\n' "$n" >"$f/$n"
	done
	chmod 0644 "$f/tamper-mode"
	printf 'signed in the factory\n' >"$f/signed"
	printf 'owned by 1000\n' >"$f/sub/user-file"
	chown -R 1000:1000 "$f/sub"
	ln -s plain "$f/link"
	[ -z "${1:-}" ] || head -c "$(($1 * 1048576))" /dev/urandom >"$f/big"
	evmctl ima_sign --key "$W/ima-key.pem" -a sha256 "$f/signed" >/dev/null ||
		vm_die "evmctl could not sign the factory file"
	getfattr -n security.ima "$f/signed" >/dev/null 2>&1 ||
		vm_die "the build directory's file system kept no security.ima"
}
