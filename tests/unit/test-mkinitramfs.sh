#!/usr/bin/env bash
# mkinitramfs end to end on the host: builds twice from the same inputs
# and compares bytes, checks the initramfs content and module order, the
# UKI section layout and signature, and that bad input is refused.
# Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
#
# Needs a kernel: SEALROOT_KERNEL (vmlinuz) and SEALROOT_MODDIR (its
# lib/modules/VER); without them the cached test kernel is used if
# tests/vm/kernel --offline has one, else the test is skipped.
# Scratch files live under build/ and are removed at the end.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
tooldir=${SEALROOT_TOOL_DIR:-$O/host}
mk=$top/mkinitramfs
snakeoil_key=/usr/share/ovmf/PkKek-1-snakeoil.key
snakeoil_cert=/usr/share/ovmf/PkKek-1-snakeoil.pem
failed=0
plain_cmdline="console=ttyS0 root=PARTLABEL=sealroot-root"
roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

pass() { echo "PASS mkinitramfs-$1"; }
fail() { echo "FAIL mkinitramfs-$1: $2"; failed=1; }

find_kernel() {
	local line
	if [ -z "${SEALROOT_KERNEL:-}" ] || [ -z "${SEALROOT_MODDIR:-}" ]; then
		while IFS= read -r line; do
			case $line in
			KERNEL=*|MODDIR=*) export "SEALROOT_$line" ;;
			esac
		done < <("$top/tests/vm/kernel" --offline 2>/dev/null)
	fi
	[ -n "${SEALROOT_KERNEL:-}" ] && [ -n "${SEALROOT_MODDIR:-}" ]
}

if ! find_kernel; then
	echo "SKIP test-mkinitramfs: set SEALROOT_KERNEL and SEALROOT_MODDIR (no cached test kernel either)"
	exit 0
fi
for t in sealroot-lint sealroot-imalint sealroot-mkcpio; do
	if [ ! -x "$tooldir/$t" ]; then
		fail tools "'$tooldir/$t' is missing (build it first)"
		exit 1
	fi
done
if [ ! -r "$snakeoil_key" ] || [ ! -r "$snakeoil_cert" ]; then
	fail keys "no snakeoil key in /usr/share/ovmf (Debian package ovmf)"
	exit 1
fi

mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/mkinitramfs.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# Inputs: the real sealroot if built, else a trivial static init; a copy
# of the default config with the test's module list, the shipped IMA
# policy (ima = on is the default); one extra policy.
make_inputs() {
	if [ -x "$O/init" ]; then
		init=$O/init
	else
		init=$tmp/init
		printf 'int main(void) { return 0; }\n' >"$tmp/init.c"
		"${CC:-cc}" -static -O2 -o "$init" "$tmp/init.c" || return 1
	fi
	mkdir -p "$tmp/pol/ima"
	mkdir -p "$tmp/prod"
	sed -e 's/^modules *=.*/modules = virtio_pci virtio_blk ext4 dm_verity/' \
	    -e 's/^root\.fstype *=.*/root.fstype = ext4/' \
	    "$top/policies/sealroot.conf" >"$tmp/prod/sealroot.conf"
	cp "$top/policies/ima-policy" "$tmp/prod/ima-policy"
	cp "$top/policies/ima-policy" "$tmp/pol/ima-policy"
	# The plain test root is unverified: development mode, said explicitly.
	sed -e 's/^mode *=.*/mode = development/' \
	    -e 's/^root\.verity *=.*/root.verity = optional/' \
	    "$tmp/prod/sealroot.conf" >"$tmp/pol/sealroot.conf"
	echo 'measure func=BPRM_CHECK' >"$tmp/pol/ima/policy"
}

# $1 = output dir; further arguments are extra options.
build() {
	local out=$1
	shift
	mkdir -p "$out"
	"$mk" --init "$init" --policies "$tmp/pol" --tool-dir "$tooldir" \
		--moddir "$SEALROOT_MODDIR" --kernel "$SEALROOT_KERNEL" \
		--cmdline "console=ttyS0 root=PARTLABEL=sealroot-root" \
		--key "$snakeoil_key" --key-pass-fd 3 --cert "$snakeoil_cert" \
		--output "$out/uki.efi" --initramfs "$out/initrd.img" "$@" \
		>"$out/log" 2>&1 3< <(printf 'snakeoil\n')
}

test_build_twice() {
	if ! build "$tmp/a"; then
		fail build "$(tail -n 3 "$tmp/a/log")"
		return 1
	fi
	pass build
	# Second run: other cwd, scratch dir, umask and wall-clock time.
	sleep 1
	mkdir -p "$tmp/scratch"
	if ! (cd /tmp && umask 077 && TMPDIR=$tmp/scratch build "$tmp/b"); then
		fail build-again "$(tail -n 3 "$tmp/b/log")"
		return 1
	fi
	if cmp -s "$tmp/a/initrd.img" "$tmp/b/initrd.img"; then
		pass reproducible-initramfs
	else
		fail reproducible-initramfs "initramfs differs between two runs"
	fi
	if cmp -s "$tmp/a/uki.efi" "$tmp/b/uki.efi"; then
		pass reproducible-uki
	else
		fail reproducible-uki "$(cmp "$tmp/a/uki.efi" "$tmp/b/uki.efi" 2>&1 | head -n 1)"
	fi
}

test_contents() {
	local list p missing=
	zstd -dcq <"$tmp/a/initrd.img" >"$tmp/a/initrd.cpio" ||
		{ fail contents "initramfs is not zstd"; return; }
	list=$(cpio -t --quiet <"$tmp/a/initrd.cpio") ||
		{ fail contents "cpio -t failed"; return; }
	for p in init etc/sealroot.conf etc/ima-policy etc/sealroot/ima/policy dev/console \
		dev/null lib/modules/sealroot.order tmp sysroot; do
		grep -qx "$p" <<<"$list" || missing+=" $p"
	done
	if [ -z "$missing" ]; then pass contents; else fail contents "missing:$missing"; fi
}

# Every module's modules.dep dependencies come before it, each once.
check_order() {	# $1 = order file
	awk -v moddep="$SEALROOT_MODDIR/modules.dep" '
	function name(p) { sub(/.*\//, "", p); sub(/\.ko.*/, "", p); gsub(/-/, "_", p); return p }
	BEGIN {
		while ((getline line < moddep) > 0) {
			split(line, f, ":"); deps[name(f[1])] = f[2]
		}
	}
	{
		m = name($0)
		if (seen[m]++) { print "twice: " m; bad = 1 }
		n = split(deps[m], d, " ")
		for (i = 1; i <= n; i++)
			if (!seen[name(d[i])]) { print name(d[i]) " after " m; bad = 1 }
	}
	END { exit bad }' "$1"
}

test_order() {
	local order want missing='' m
	order=$(cd "$tmp/a" && cpio -i --quiet --to-stdout lib/modules/sealroot.order <initrd.cpio)
	printf '%s\n' "$order" >"$tmp/a/order"
	for m in virtio virtio_ring virtio_pci virtio_blk ext4 jbd2 mbcache crc16; do
		grep -qx "/lib/modules/$m.ko" <<<"$order" || missing+=" $m"
	done
	if [ -n "$missing" ]; then
		fail module-order "missing:$missing (order: ${order//$'\n'/ })"
	elif ! want=$(check_order "$tmp/a/order"); then
		fail module-order "$want"
	else
		pass module-order
	fi
}

test_signature() {
	local when
	if sbverify --cert "$snakeoil_cert" "$tmp/a/uki.efi" >/dev/null 2>&1; then
		pass sbverify
	else
		fail sbverify "signature does not verify with the snakeoil certificate"
	fi
	sbattach --detach "$tmp/a/sig.p7" "$tmp/a/uki.efi" >/dev/null 2>&1
	when=$(openssl asn1parse -inform DER -in "$tmp/a/sig.p7" 2>/dev/null |
		awk '/:signingTime/ { getline; getline; sub(/.*:/, ""); print }')
	if [ "$when" = 231114221320Z ]; then
		pass signing-time
	else
		fail signing-time "signingTime '$when', want SOURCE_DATE_EPOCH (231114221320Z)"
	fi
}

# .osrel .cmdline .initrd .linux in this order, page aligned, no overlap.
test_layout() {
	local out
	out=$(objdump -h "$tmp/a/uki.efi" | awk '
		$1 ~ /^[0-9]+$/ { n++; name[n] = $2; size[n] = $3; vma[n] = $4 }
		function num(h,   i, v) { v = 0; h = tolower(h)
			for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			return v }
		END {
			for (i = 1; i <= n; i++) {
				if (i > 1 && num(vma[i]) < num(vma[i - 1]) + num(size[i - 1])) print "overlap " name[i - 1] "/" name[i]
				if (name[i] ~ /^\.(osrel|cmdline|initrd|linux)$/) { seq = seq name[i] " "; if (num(vma[i]) % 4096) print "unaligned " name[i] }
			}
			if (seq != ".osrel .cmdline .initrd .linux ") print "sections: " seq
			if (name[n] != ".linux") print "last is " name[n]
		}')
	if [ -z "$out" ]; then pass layout; else fail layout "${out//$'\n'/ }"; fi
}

# $1 = name, $2 = expected message; the rest: mkinitramfs arguments.
refuses() {
	local name=$1 msg=$2 rc=0 err
	shift 2
	err=$("$mk" "$@" 2>&1 >/dev/null) || rc=$?
	if [ $rc -ne 1 ]; then
		fail "$name" "exit status $rc, want 1"
	elif [[ $err != *"$msg"* ]]; then
		fail "$name" "message: ${err//$'\n'/ | }"
	else
		pass "$name"
	fi
}

test_refusals() {
	local base=(--init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR"
		--initramfs "$tmp/r.img")
	mkdir -p "$tmp/bad" "$tmp/unknown"
	{ cat "$tmp/pol/sealroot.conf"; echo 'no.such.key = 1'; } >"$tmp/bad/sealroot.conf"
	refuses bad-config "sealroot.conf:" "${base[@]}" --policies "$tmp/bad"
	refuses bad-config-named "rejected by sealroot-lint" "${base[@]}" --policies "$tmp/bad"
	sed 's/^modules *=.*/modules = virtio_blk no_such_module/' \
		"$tmp/pol/sealroot.conf" >"$tmp/unknown/sealroot.conf"
	cp "$tmp/pol/ima-policy" "$tmp/unknown/"
	refuses unknown-module "cannot find module 'no_such_module'" "${base[@]}" --policies "$tmp/unknown"
	refuses encrypted-key "encrypted" "${base[@]}" --policies "$tmp/pol" \
		--kernel "$SEALROOT_KERNEL" --cmdline "$plain_cmdline" --key "$snakeoil_key" \
		--cert "$snakeoil_cert" --output "$tmp/r.efi"
	refuses no-cmdline "needs --cmdline" "${base[@]}" --policies "$tmp/pol" \
		--kernel "$SEALROOT_KERNEL" --unsigned --output "$tmp/r.efi"
	refuses bad-compress "bad --compress 'lz4'" "${base[@]}" --policies "$tmp/pol" --compress lz4
	refuses bad-option "unknown option '--bogus'" --bogus
	if [ -e "$tmp/r.img" ] || [ -e "$tmp/r.efi" ]; then
		fail no-output-on-error "an output was written by a failed run"
	else
		pass no-output-on-error
	fi
}

# A built-in module is skipped silently, '-' and '_' are the same.
test_names() {
	local builtin out why got want
	builtin=$(head -n 1 "$SEALROOT_MODDIR/modules.builtin" 2>/dev/null)
	builtin=${builtin##*/}
	builtin=${builtin%%.ko*}
	mkdir -p "$tmp/names"
	sed -e "s/^modules *=.*/modules = virtio-blk $builtin/" -e 's/^root\.fstype *=.*/root.fstype = auto/' \
		"$tmp/pol/sealroot.conf" >"$tmp/names/sealroot.conf"
	cp "$tmp/pol/ima-policy" "$tmp/names/"
	if ! "$mk" --init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR" \
		--policies "$tmp/names" --compress none --initramfs "$tmp/names.cpio" >"$tmp/names.log" 2>&1; then
		fail module-names "$(tail -n 2 "$tmp/names.log")"
		return
	fi
	# Expected: virtio_blk and its dependencies as the kernel under test
	# has them, each after its own dependencies (check_order).
	out=$(cd "$tmp" && cpio -i --quiet --to-stdout lib/modules/sealroot.order <names.cpio)
	printf '%s\n' "$out" >"$tmp/names.order"
	got=$(sed 's|.*/||; s|\.ko$||' "$tmp/names.order" | sort)
	want=$(dep_closure virtio_blk)
	if [ -z "$want" ]; then
		fail module-names "virtio_blk is not in $SEALROOT_MODDIR/modules.dep"
	elif [ "$got" != "$want" ]; then
		fail module-names "packed ${got//$'\n'/ }, modules.dep wants ${want//$'\n'/ }"
	elif ! why=$(check_order "$tmp/names.order"); then
		fail module-names "$why"
	else
		pass module-names
	fi
}

# MODULE and what modules.dep says it depends on, one name per line, sorted.
dep_closure() {	# MODULE
	awk -v top="$1" '
	function name(p) { sub(/.*\//, "", p); sub(/\.ko.*/, "", p); gsub(/-/, "_", p); return p }
	name($1) == top {
		print top
		for (i = 2; i <= NF; i++) print name($i)
	}' "$SEALROOT_MODDIR/modules.dep" | sort -u
}

# Without --output no kernel is needed; every compressor is reproducible
# and xz uses the CRC32 check the kernel's decompressor wants.
test_compressors() {
	local c why=''
	for c in xz gzip; do
		for run in 1 2; do
			"$mk" --init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR" \
				--policies "$tmp/pol" --compress $c --initramfs "$tmp/$c.$run" \
				>"$tmp/$c.log" 2>&1 || why+=" $c failed"
		done
		cmp -s "$tmp/$c.1" "$tmp/$c.2" || why+=" $c differs"
	done
	xz --robot --list "$tmp/xz.1" 2>/dev/null | grep -q 'CRC32' || why+=" xz check is not CRC32"
	gzip -t "$tmp/gzip.1" 2>/dev/null || why+=" gzip corrupt"
	if [ -z "$why" ]; then pass compressors; else fail compressors "$why"; fi
}

# Compressed modules (.ko.xz, .ko.zst, .ko.gz) are packed decompressed.
test_compressed_modules() {
	local md=$tmp/cmod why='' m src
	mkdir -p "$md/k" "$tmp/cpol"
	for m in virtio_ring virtio virtio_blk; do
		src=$(awk -F: -v m="/$m.ko" 'index($1, m) == length($1) - length(m) + 1 { print $1; exit }' \
			"$SEALROOT_MODDIR/modules.dep")
		cp "$SEALROOT_MODDIR/$src" "$md/k/$m.ko" || { fail compressed-modules "no $m in modules.dep"; return; }
	done
	xz --check=crc32 -c "$md/k/virtio_ring.ko" >"$md/k/virtio_ring.ko.xz"
	zstd -q -c "$md/k/virtio.ko" >"$md/k/virtio.ko.zst"
	gzip -n -c "$md/k/virtio_blk.ko" >"$md/k/virtio_blk.ko.gz"
	printf '%s\n' "k/virtio_ring.ko.xz:" "k/virtio.ko.zst: k/virtio_ring.ko.xz" \
		"k/virtio_blk.ko.gz: k/virtio.ko.zst k/virtio_ring.ko.xz" >"$md/modules.dep"
	sed -e 's/^modules *=.*/modules = virtio_blk/' -e 's/^root\.fstype *=.*/root.fstype = auto/' \
		"$tmp/pol/sealroot.conf" >"$tmp/cpol/sealroot.conf"
	cp "$tmp/pol/ima-policy" "$tmp/cpol/"
	if ! "$mk" --init "$init" --tool-dir "$tooldir" --moddir "$md" --policies "$tmp/cpol" \
		--compress none --initramfs "$tmp/cmod.cpio" >"$tmp/cmod.log" 2>&1; then
		fail compressed-modules "$(tail -n 2 "$tmp/cmod.log")"
		return
	fi
	mkdir -p "$tmp/cx"
	(cd "$tmp/cx" && cpio -id --quiet <"$tmp/cmod.cpio") || why+=" cpio -i failed"
	for m in virtio_ring virtio virtio_blk; do
		cmp -s "$tmp/cx/lib/modules/$m.ko" "$md/k/$m.ko" || why+=" $m.ko differs"
	done
	[ "$(cat "$tmp/cx/lib/modules/sealroot.order" 2>/dev/null)" = \
		$'/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n/lib/modules/virtio_blk.ko' ] ||
		why+=" order"
	if [ -z "$why" ]; then pass compressed-modules; else fail compressed-modules "$why"; fi
}

# Issue 13: the UKI's command line goes through sealroot's own parser and
# device plan with the file, as the device sees them; the file system
# modules packed follow the effective type (rootfstype= included).
test_cmdline_checked() {
	local base=(--init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR"
		--kernel "$SEALROOT_KERNEL" --unsigned --output "$tmp/c.efi"
		--initramfs "$tmp/c.img") list
	refuses cmdline-unverified-production "root.verity = required" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "$plain_cmdline"
	refuses cmdline-unknown-key "unknown kernel command line key 'sealroot.bogus'" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "ro roothash=$roothash sealroot.bogus=1"
	refuses cmdline-bad-roothash "'abc' is not 64 to 128 hex digits" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "ro roothash=abc"
	refuses cmdline-root-and-roothash "conflicts with the root hash" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "root=PARTLABEL=r roothash=$roothash"
	refuses cmdline-repeated-key "key 'roothash' given twice" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "roothash=$roothash roothash=$roothash"
	refuses cmdline-empty-roothash "a value is required" "${base[@]}" \
		--policies "$tmp/prod" --cmdline "roothash= root=PARTLABEL=r"
	mkdir -p "$tmp/auto"
	sed 's/^root\.fstype *=.*/root.fstype = auto/' "$tmp/prod/sealroot.conf" >"$tmp/auto/sealroot.conf"
	cp "$tmp/pol/ima-policy" "$tmp/auto/"
	if ! "$mk" "${base[@]}" --policies "$tmp/auto" --compress none \
		--cmdline "ro roothash=$roothash rootfstype=erofs" >"$tmp/c.log" 2>&1; then
		fail cmdline-fstype-modules "$(tail -n 2 "$tmp/c.log")"
		return
	fi
	list=$(cpio -it --quiet <"$tmp/c.img" | grep 'fs-.*\.order' | tr '\n' ' ')
	if [ "$list" = "lib/modules/fs-erofs.order " ]; then
		pass cmdline-fstype-modules
	else
		fail cmdline-fstype-modules "rootfstype=erofs packed: ${list:-nothing}"
	fi
}

test_unsigned() {
	"$mk" --init "$init" --policies "$tmp/pol" --tool-dir "$tooldir" \
		--moddir "$SEALROOT_MODDIR" --kernel "$SEALROOT_KERNEL" --cmdline "$plain_cmdline" \
		--unsigned --output "$tmp/u.efi" >"$tmp/u.log" 2>&1 ||
		{ fail unsigned "$(tail -n 2 "$tmp/u.log")"; return; }
	if sbverify --list "$tmp/u.efi" 2>&1 | grep -q 'No signature table'; then
		pass unsigned
	else
		fail unsigned "the --unsigned UKI carries a signature"
	fi
}

# Issue 15: the IMA policy is linted (file:line), required with ima = on,
# checked against state.fsuuid; certificates are packed as DER.
ima_build() {	# DIR [mkinitramfs args...]: build DIR/out.cpio from policies DIR/pol
	local d=$1
	shift
	"$mk" --init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR" \
		--policies "$d/pol" --compress none --initramfs "$d/out.cpio" "$@" >"$d/log" 2>&1
}

ima_policies() {	# DIR: a fresh copy of the test policies in DIR/pol
	rm -rf "$1"
	mkdir -p "$1"
	cp -r "$tmp/pol" "$1/pol"
}

ima_conf() {	# DIR KEY VALUE
	if grep -q "^$2 *=" "$1/pol/sealroot.conf"; then
		sed -i "s|^$2 *=.*|$2 = $3|" "$1/pol/sealroot.conf"
	else
		printf '%s = %s\n' "$2" "$3" >>"$1/pol/sealroot.conf"
	fi
}

ima_refuses() {	# NAME MESSAGE DIR [mkinitramfs args...]
	local name=$1 msg=$2 d=$3
	shift 3
	refuses "$name" "$msg" --init "$init" --tool-dir "$tooldir" --moddir "$SEALROOT_MODDIR" \
		--policies "$d/pol" --compress none --initramfs "$d/out.cpio" "$@"
	[ ! -e "$d/out.cpio" ] || fail "$name-no-output" "an initramfs was written"
}

test_ima_policy_checked() {
	local d=$tmp/ima-bad
	ima_policies "$d"
	printf 'measure func=BPRM_CHECK\n# next\nmeasure func=FILE_CHECK template=ima-sigv3\n' >"$d/pol/ima-policy"
	ima_refuses ima-bad-policy "$d/pol/ima-policy:3: template=ima-sigv3" "$d"
	ima_refuses ima-bad-policy-named "rejected by sealroot-imalint" "$d"
	rm "$d/pol/ima-policy"
	ima_refuses ima-missing-policy "has ima = on, but there is no IMA policy" "$d"
	ima_policies "$d"
	printf 'measure func=BPRM_CHECK # x\n' >"$d/pol/ima-policy"
	if ! ima_build "$d" --skip-ima-lint; then
		fail ima-skip-lint "$(tail -n 2 "$d/log")"
	elif ! grep -q -- '--skip-ima-lint: the IMA policy' "$d/log"; then
		fail ima-skip-lint "no warning: $(head -n 3 "$d/log")"
	elif ! (cd "$d" && cpio -i --quiet --to-stdout etc/ima-policy <out.cpio) | cmp -s - "$d/pol/ima-policy"; then
		fail ima-skip-lint "the policy packed is not the file given"
	else
		pass ima-skip-lint
	fi
}

# ima = off: neither the policy nor the certificates, anywhere.
test_ima_off() {
	local d=$tmp/ima-off list
	ima_policies "$d"
	mkdir -p "$d/pol/keys/ima"
	cp "$snakeoil_cert" "$d/pol/keys/ima/snakeoil.pem"
	ima_conf "$d" ima off
	if ! ima_build "$d"; then
		fail ima-off "$(tail -n 2 "$d/log")"
		return
	fi
	list=$(cpio -it --quiet <"$d/out.cpio" | grep -E 'ima-policy|keys' | tr '\n' ' ')
	if [ -n "$list" ]; then
		fail ima-off "packed: $list"
	elif ! grep -q 'IMA: off' "$d/log" || ! grep -q 'ima = off: the IMA policy' "$d/log"; then
		fail ima-off "no summary or warning: $(grep IMA "$d/log")"
	else
		pass ima-off
	fi
}

# PEM, DER and .crt (either) become /etc/keys/{ima,evm}/NAME.der, each the
# DER of its certificate; a bad one stops the build naming the file.
test_ima_certs() {
	local d=$tmp/ima-certs why='' want
	ima_policies "$d"
	mkdir -p "$d/pol/keys/ima" "$d/pol/keys/evm"
	openssl x509 -in "$snakeoil_cert" -outform DER -out "$d/want.der"
	cp "$snakeoil_cert" "$d/pol/keys/ima/a.pem"
	cp "$d/want.der" "$d/pol/keys/ima/b.der"
	cp "$snakeoil_cert" "$d/pol/keys/evm/c.crt"
	cp "$d/want.der" "$d/pol/keys/evm/d.crt"
	if ! ima_build "$d"; then
		fail ima-certs-der "$(tail -n 2 "$d/log")"
		return
	fi
	mkdir -p "$d/x"
	(cd "$d/x" && cpio -id --quiet <"$d/out.cpio") || why+=" cpio -i failed"
	for want in ima/a ima/b evm/c evm/d; do
		cmp -s "$d/x/etc/keys/$want.der" "$d/want.der" || why+=" $want.der"
	done
	[ "$(find "$d/x/etc/keys" -type f | wc -l)" = 4 ] || why+=" not 4 files"
	grep -q 'certificates: ima 2, evm 2' "$d/log" || why+=" summary"
	if [ -z "$why" ]; then pass ima-certs-der; else fail ima-certs-der "$why"; fi
	rm -f "$d/out.cpio"
	printf 'not a certificate\n' >"$d/pol/keys/evm/bad.pem"
	ima_refuses ima-bad-cert "cannot pack certificate '$d/pol/keys/evm/bad.pem'" "$d"
	rm "$d/pol/keys/evm/bad.pem"
	cat "$snakeoil_cert" "$snakeoil_key" >"$d/pol/keys/ima/withkey.pem"
	ima_refuses ima-cert-private-key "holds a private key" "$d"
	rm "$d/pol/keys/ima/withkey.pem"
	printf 'x\n' >"$d/pol/keys/ima/README"
	ima_refuses ima-cert-stray-file "cannot pack '$d/pol/keys/ima/README'" "$d"
}

# The state volume is appraised by state.fsuuid: the policy must name it.
test_ima_fsuuid() {
	local d=$tmp/ima-uuid
	ima_policies "$d"
	ima_conf "$d" state PARTLABEL=sealroot-state
	ima_conf "$d" state.fsuuid 0123abcd-ef01-4234-8567-89abcdef0123
	ima_refuses ima-fsuuid-mismatch "state.fsuuid 0123abcd-ef01-4234-8567-89abcdef0123 is not a file system the IMA policy" "$d"
	ima_conf "$d" state.fsuuid ''
	if [ ! -x "$O/mke2fs" ]; then
		echo "SKIP mkinitramfs-ima-fsuuid-empty: no $O/mke2fs (make)"
	elif ! ima_build "$d" --mke2fs "$O/mke2fs"; then
		fail ima-fsuuid-empty "$(tail -n 2 "$d/log")"
	elif ! grep -q "state.fsuuid is empty, so the state volume's files are not appraised" "$d/log"; then
		fail ima-fsuuid-empty "no warning"
	else
		pass ima-fsuuid-empty
	fi
	ima_conf "$d" state.fsuuid 7a1f3c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b
	ima_conf "$d" evm off
	if [ ! -x "$O/mke2fs" ]; then
		echo "SKIP mkinitramfs-ima-fsuuid-match: no $O/mke2fs (make)"
	elif ! ima_build "$d" --mke2fs "$O/mke2fs"; then
		fail ima-fsuuid-match "$(tail -n 2 "$d/log")"
	elif ! grep -q 'evm = off, but the IMA policy' "$d/log"; then
		fail ima-fsuuid-match "no evm = off warning"
	else
		pass ima-fsuuid-match
	fi
}

if ! make_inputs; then
	fail inputs "cannot build a static test init with ${CC:-cc}"
	exit 1
fi
if test_build_twice; then
	test_contents
	test_order
	test_signature
	test_layout
fi
test_refusals
test_cmdline_checked
test_names
test_compressors
test_compressed_modules
test_unsigned
test_ima_policy_checked
test_ima_off
test_ima_certs
test_ima_fsuuid
exit $failed
