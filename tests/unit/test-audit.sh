#!/usr/bin/env bash
# sealroot-audit and mkinitramfs --audit end to end (issue 16): the Debian
# kernel configuration the tests boot gives the expected findings; a
# configuration missing a required option blocks, with the right message,
# also from a kernel image embedding it; a synthetic root tree with each
# risky kind of file, and programs built with and without each hardening
# flag, is reported; a development image signed with the production key
# blocks; every JSON report validates against tests/audit.schema.json.
# Prints "PASS name" / "FAIL name: why" / "SKIP name: why".
# Scratch files live under build/tests and are removed at the end.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
tooldir=${SEALROOT_TOOL_DIR:-$O/host}
audit=$tooldir/sealroot-audit
mk=$top/mkinitramfs
schema=$top/tests/audit.schema.json
validate=$top/tests/unit/jsonschema-check
cache=${SEALROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealroot}
failed=0

pass() { echo "PASS audit-$1"; }
fail() { echo "FAIL audit-$1: $2"; failed=1; }
skip() { echo "SKIP audit-$1: $2"; }

for t in sealroot-audit sealroot-lint sealroot-mkcpio; do
	if [ ! -x "$tooldir/$t" ]; then
		fail tools "'$tooldir/$t' is missing (build it first)"
		exit 1
	fi
done
mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/audit.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# $1 = JSON report; the rest: ID SEVERITY [PATH]: a finding with that id
# and severity (and that path among its paths) is there.
has_finding() {
	python3 - "$@" <<'PY'
import json, sys
report, fid, sev = sys.argv[1:4]
path = sys.argv[4] if len(sys.argv) > 4 else None
for f in json.load(open(report))["findings"]:
    if f["id"] == fid and f["severity"] == sev and (path is None or path in f["paths"]):
        sys.exit(0)
sys.exit(1)
PY
}

# $1 = JSON report, $2 = check id, $3 = path: the path is not in any of its findings.
lacks_path() {
	python3 - "$@" <<'PY'
import json, sys
report, check, path = sys.argv[1:4]
sys.exit(any(f["check"] == check and path in f["paths"] for f in json.load(open(report))["findings"]))
PY
}

count_of() {	# JSON REPORT, SEVERITY
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"][sys.argv[2]])' "$1" "$2"
}

# Every report of this test is validated; each validation is a test.
valid() {	# NAME JSON
	local out
	if out=$("$validate" "$schema" "$2" 2>&1); then
		pass "schema-$1"
	else
		fail "schema-$1" "$(head -n 3 <<<"$out" | tr '\n' ' ')"
	fi
}

# Run the tool: $1 = name (files $tmp/$1.out, .json, .rc); the rest: args.
run() {
	local name=$1 rc=0
	shift
	"$audit" --json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
	[ ! -s "$tmp/$name.json" ] || valid "$name" "$tmp/$name.json"
	return 0
}

rc_of() { cat "$tmp/$1.rc"; }

# Synthetic inputs --------------------------------------------------------

# A kernel configuration with every option some feature needs (and
# CONFIG_LSM naming integrity); $@ are options left out.
full_kconfig() {
	local o skip
	printf '# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_LSM="lockdown,integrity"\n'
	for o in BLK_DEV_INITRD BINFMT_ELF DEVTMPFS PROC_FS SYSFS SECURITYFS TMPFS \
		RD_ZSTD RD_XZ RD_GZIP EFI_STUB MODULES MODULE_SIG BLK_DEV_DM DM_VERITY \
		EROFS_FS SQUASHFS EXT4_FS DM_CRYPT CRYPTO_XTS CRYPTO_ECB CRYPTO_AES \
		TCG_TPM TCG_TIS EVM KEYS ENCRYPTED_KEYS IMA IMA_APPRAISE \
		INTEGRITY_SIGNATURE INTEGRITY_ASYMMETRIC_KEYS X509_CERTIFICATE_PARSER \
		SECURITY_LOCKDOWN_LSM LOCK_DOWN_KERNEL_FORCE_INTEGRITY STACKPROTECTOR_STRONG; do
		skip=0
		for s in "$@"; do [ "$s" = "$o" ] && skip=1; done
		if [ $skip = 1 ]; then echo "# CONFIG_$o is not set"; else echo "CONFIG_$o=y"; fi
	done
}

# policies/ (sealroot.conf, the IMA policy) with "key = value" lines changed.
make_policies() {	# DIR [KEY=VALUE]...
	local dir=$1 kv
	shift
	mkdir -p "$dir"
	cp -r "$top/policies/." "$dir"
	for kv in "$@"; do
		sed -i "s|^${kv%%=*} *=.*|${kv%%=*} = ${kv#*=}|" "$dir/sealroot.conf"
	done
}

# Kernel configuration -------------------------------------------------------

test_required_blocks() {
	full_kconfig >"$tmp/full.config"
	full_kconfig DM_VERITY >"$tmp/noverity.config"
	make_policies "$tmp/pol"
	run full --policies "$tmp/pol" --kconfig "$tmp/full.config" --modules ''
	if [ "$(rc_of full)" = 0 ] && [ "$(count_of "$tmp/full.json" block)" = 0 ]; then
		pass required-full
	else
		fail required-full "exit $(rc_of full): $(grep BLOCK "$tmp/full.out" | head -n 2)"
	fi
	run noverity --policies "$tmp/pol" --kconfig "$tmp/noverity.config" --modules ''
	if [ "$(rc_of noverity)" = 1 ] &&
		grep -q '^BLOCK  \[kernel.required\] CONFIG_DM_VERITY is not set: the verified root (dm-verity) needs it$' "$tmp/noverity.out" &&
		has_finding "$tmp/noverity.json" kernel.required:CONFIG_DM_VERITY block; then
		pass required-missing-blocks
	else
		fail required-missing-blocks "exit $(rc_of noverity): $(head -c 400 "$tmp/noverity.out")"
	fi
	# The short form: only what blocks, and the count.
	"$audit" --short --policies "$tmp/pol" --kconfig "$tmp/noverity.config" --modules '' \
		>"$tmp/short.out" 2>&1
	if [ "$(grep -c '^BLOCK' "$tmp/short.out")" = 1 ] && ! grep -qE '^(HIGH|MEDIUM|LOW|INFO)' "$tmp/short.out" &&
		tail -n 1 "$tmp/short.out" | grep -q '^sealroot-audit: blocked: 1 blocking, '; then
		pass short-form
	else
		fail short-form "$(tr '\n' '|' <"$tmp/short.out")"
	fi
	# =m needs the module packed.
	sed 's/^CONFIG_DM_VERITY=y/CONFIG_DM_VERITY=m/' "$tmp/full.config" >"$tmp/modular.config"
	run modular --policies "$tmp/pol" --kconfig "$tmp/modular.config" --modules 'virtio_blk dm_mod'
	if [ "$(rc_of modular)" = 1 ] &&
		grep -q "CONFIG_DM_VERITY=m, but module 'dm_verity' is not packed" "$tmp/modular.out"; then
		pass required-module-not-packed
	else
		fail required-module-not-packed "$(grep BLOCK "$tmp/modular.out" | head -n 2)"
	fi
}

# A kernel image that embeds its configuration (CONFIG_IKCONFIG), raw and
# compressed behind other bytes, and one that does not.
test_embedded_config() {
	local name
	{ head -c 3000 /dev/zero; printf 'IKCFG_ST'; gzip -n -9 <"$tmp/noverity.config"; printf 'IKCFG_ED'; head -c 500 /dev/zero; } \
		>"$tmp/vmlinux"
	{ head -c 4096 /dev/zero; xz --check=crc32 -c <"$tmp/vmlinux"; head -c 64 /dev/zero; } >"$tmp/vmlinuz"
	head -c 65536 /dev/urandom >"$tmp/noconfig"
	# An x86 bzImage: the boot protocol header says where the payload is
	# (setup_sects 7: protected-mode code at 4096, payload_offset 32).
	python3 - "$tmp/vmlinux" "$tmp/bzimage" <<'PY'
import lzma, struct, sys
payload = lzma.compress(open(sys.argv[1], "rb").read(), check=lzma.CHECK_CRC32)
head = bytearray(4096 + 32)
head[0:2] = b"MZ"
head[0x1f1] = 7
head[0x202:0x206] = b"HdrS"
head[0x206:0x208] = struct.pack("<H", 0x20f)
head[0x248:0x24c] = struct.pack("<I", 32)
head[0x24c:0x250] = struct.pack("<I", len(payload))
head[4096:4099] = b"\x1f\x8b\x08"	# a decoy gzip magic before the payload
open(sys.argv[2], "wb").write(bytes(head) + payload + b"\0" * 100)
PY
	for name in vmlinux vmlinuz bzimage; do
		if ! command -v xz >/dev/null && [ $name != vmlinux ]; then
			skip embedded-$name "no xz"
			continue
		fi
		if [ $name != vmlinux ] && grep -q IKCFG_ST "$tmp/$name"; then
			fail embedded-$name "the marker is readable without unpacking: a test of nothing"
			continue
		fi
		run "$name" --policies "$tmp/pol" --kernel "$tmp/$name" --modules ''
		if [ "$(rc_of "$name")" = 1 ] && has_finding "$tmp/$name.json" kernel.required:CONFIG_DM_VERITY block; then
			pass embedded-$name
		else
			fail embedded-$name "exit $(rc_of "$name"): $(head -n 3 "$tmp/$name.err" "$tmp/$name.out" | tr '\n' ' ')"
		fi
	done
	run noconfig --policies "$tmp/pol" --kernel "$tmp/noconfig" --modules ''
	if [ "$(rc_of noconfig)" = 0 ] && has_finding "$tmp/noconfig.json" kernel.config:CONFIG_IKCONFIG high &&
		grep -q 'embeds no configuration' "$tmp/noconfig.out"; then
		pass embedded-none
	else
		fail embedded-none "exit $(rc_of noconfig): $(head -n 3 "$tmp/noconfig.out" | tr '\n' ' ')"
	fi
}

# The pinned test kernel's configuration (tests/vm/kernel), with the
# modules mkinitramfs packs for the default policies and a state volume.
test_debian_config() {
	local kc id sev want
	kc=$(ls "$cache"/kernel/*/boot/config-* 2>/dev/null | head -n 1)
	if [ -z "$kc" ]; then
		skip debian-config "no cached test kernel in $cache/kernel (deps/setup fetches it)"
		return
	fi
	make_policies "$tmp/dpol" state=PARTLABEL=sealroot-state
	# The tests' lsm= (tests/vm/scenario.sh): without bpf, which crashes
	# Debian's 6.1 with EVM; the kernel's CONFIG_LSM has it.
	run debian-bpf --policies "$tmp/dpol" --kconfig "$kc" --cmdline "console=ttyS0 ro roothash=$(printf '%064d' 1)" \
		--modules 'dm_mod dm_verity dm_crypt xts ecb erofs squashfs ext4'
	if [ "$(rc_of debian-bpf)" = 1 ] && has_finding "$tmp/debian-bpf.json" kernel.lsm:CONFIG_BPF_LSM block; then
		pass debian-config-bpf-lsm
	else
		fail debian-config-bpf-lsm "exit $(rc_of debian-bpf): $(grep -E '^(BLOCK|HIGH)' "$tmp/debian-bpf.out" | head -n 2 | tr '\n' ' ')"
	fi
	run debian --policies "$tmp/dpol" --kconfig "$kc" \
		--cmdline "console=ttyS0 ro lsm=landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor roothash=$(printf '%064d' 1)" \
		--modules 'virtio_pci virtio_blk crc32c_generic dm_mod dm_bufio dm_verity dm_crypt xts ecb erofs squashfs ext4 jbd2 mbcache'
	want=(
		kernel.hardening:CONFIG_MODULE_SIG_FORCE:medium
		kernel.hardening:CONFIG_KEXEC:medium
		kernel.hardening:CONFIG_KEXEC_SIG_FORCE:medium
		kernel.hardening:CONFIG_DEBUG_FS:medium
		kernel.hardening:CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY:low
		kernel.hardening:CONFIG_INIT_ON_FREE_DEFAULT_ON:low
		kernel.hardening:CONFIG_HIBERNATION:low
		kernel.hardening:CONFIG_IMA_APPRAISE_BOOTPARAM:low
		policy.state-covered:state.fsuuid:medium
	)
	local missing=''
	for w in "${want[@]}"; do
		sev=${w##*:}
		id=${w%:*}
		has_finding "$tmp/debian.json" "$id" "$sev" || missing+=" $id($sev)"
	done
	if [ "$(rc_of debian)" != 0 ]; then
		fail debian-config "exit $(rc_of debian): $(grep BLOCK "$tmp/debian.out" | head -n 3 | tr '\n' ' ')"
	elif [ -n "$missing" ]; then
		fail debian-config "missing:$missing"
	elif [ "$(count_of "$tmp/debian.json" high)" != 0 ]; then
		fail debian-config "unexpected high: $(grep '^HIGH' "$tmp/debian.out" | head -n 2 | tr '\n' ' ')"
	else
		pass debian-config
	fi
	# The lockdown the Debian kernel does have is not reported missing.
	if ! grep -qE 'CONFIG_(SECURITY_LOCKDOWN_LSM|STRICT_DEVMEM|STACKPROTECTOR_STRONG|RANDOMIZE_BASE)[ =]' "$tmp/debian.out"; then
		pass debian-config-present
	else
		fail debian-config-present "$(grep -E 'SECURITY_LOCKDOWN_LSM|STRICT_DEVMEM' "$tmp/debian.out" | head -n 2)"
	fi
}

# The root tree ----------------------------------------------------------------

cc_prog() {	# OUT FLAGS...
	local out=$1
	shift
	"${CC:-cc}" "$@" -o "$out" "$tmp/prog.c" 2>>"$tmp/cc.log"
}

make_programs() {
	local b=$tmp/root/usr/bin
	mkdir -p "$b" "$tmp/root/usr/lib"
	cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	char buf[64];
	strcpy(buf, argc > 1 ? argv[1] : "x");
	printf("%s %d\n", buf, argc);
	return buf[0];
}
C
	local hard=(-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now,-z,noexecstack)
	cc_prog "$b/hard" "${hard[@]}" &&
	cc_prog "$b/nopie" -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fno-PIE -no-pie -Wl,-z,relro,-z,now &&
	cc_prog "$b/norelro" -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,norelro &&
	cc_prog "$b/lazy" -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,lazy &&
	cc_prog "$b/nossp" -O2 -D_FORTIFY_SOURCE=2 -fno-stack-protector -fPIE -pie -Wl,-z,relro,-z,now &&
	cc_prog "$b/nofortify" -O0 -U_FORTIFY_SOURCE -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now &&
	cc_prog "$b/execstack" -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now,-z,execstack &&
	printf 'int f(int x) { return x + 1; }\n' >"$tmp/lib.c" &&
	"${CC:-cc}" -shared -fPIC -O2 -Wl,-z,norelro -o "$tmp/root/usr/lib/libweak.so" "$tmp/lib.c" 2>>"$tmp/cc.log"
}

# Each risky kind of file, and what the tree must have (init, /var).
make_tree() {
	local r=$tmp/root
	mkdir -p "$r"/{etc,sbin,usr/sbin,srv,tmp,dev,var,lib64}
	chmod 1777 "$r/tmp"
	printf 'root:x:0:0:root:/root:/bin/sh\nguest::1000:1000::/home/guest:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\nguest:x:1000:\n' >"$r/etc/group"
	printf 'root:*:19000:0:99999:7:::\nguest::19000:0:99999:7:::\n' >"$r/etc/shadow"
	chmod 0644 "$r/etc/shadow"
	printf 'tmpfs /tmp tmpfs defaults 0 0\n/dev/vdb1 /var ext4 nodev,nosuid 0 2\n' >"$r/etc/fstab"
	echo data >"$r/srv/open" && chmod 0666 "$r/srv/open"
	mkdir "$r/srv/drop" && chmod 0777 "$r/srv/drop"
	cp "$r/usr/bin/hard" "$r/usr/bin/su" && chmod 4755 "$r/usr/bin/su"
	cp "$r/usr/bin/hard" "$r/usr/bin/wall" && chmod 2755 "$r/usr/bin/wall"
	cp "$r/usr/bin/hard" "$r/usr/sbin/in.telnetd"
	printf '#!/bin/sh\n' >"$r/sbin/init" && chmod 0644 "$r/sbin/init"
	if [ "$(id -u)" = 0 ]; then
		echo x >"$r/srv/orphan" && chown 4242:4242 "$r/srv/orphan"
		mknod -m 0666 "$r/srv/mem" c 1 1
		mknod -m 0666 "$r/dev/null" c 1 3
	fi
}

test_tree() {
	local want=() w id sev path missing=''
	if ! make_programs; then
		fail tree-programs "cannot build the test programs: $(tail -n 3 "$tmp/cc.log")"
		return
	fi
	make_tree
	make_policies "$tmp/tpol" state=PARTLABEL=sealroot-state
	run tree --policies "$tmp/tpol" --root "$tmp/root"
	want=(
		'tree.init:/sbin/init block -'
		'tree.accounts:accounts high -'
		'tree.accounts:/etc/shadow high -'
		'tree.world-writable high /srv/open'
		'tree.world-writable medium /srv/drop'
		'tree.setuid medium /usr/bin/su'
		'tree.setgid low /usr/bin/wall'
		'tree.legacy-services high /usr/sbin/in.telnetd'
		'tree.fstab:/tmp medium -'
		'tree.fstab:/var medium -'
		'tree.elf-pie medium /usr/bin/nopie'
		'tree.elf-relro medium /usr/bin/norelro'
		'tree.elf-relro medium /usr/lib/libweak.so'
		'tree.elf-bind-now low /usr/bin/lazy'
		'tree.elf-stack-protector low /usr/bin/nossp'
		'tree.elf-fortify low /usr/bin/nofortify'
		'tree.elf-nx-stack high /usr/bin/execstack'
	)
	if [ "$(id -u)" = 0 ]; then
		want+=('tree.unowned medium /srv/orphan' 'tree.devices high /srv/mem' 'tree.devices info /dev/null')
	else
		skip tree-root-only "not root: no unowned file or device node made"
	fi
	for w in "${want[@]}"; do
		read -r id sev path <<<"$w"
		if [ "$path" != - ]; then
			has_finding "$tmp/tree.json" "$id" "$sev" "$path" || missing+=" $id($sev,$path)"
		else
			has_finding "$tmp/tree.json" "$id" "$sev" || missing+=" $id($sev)"
		fi
	done
	if [ -n "$missing" ]; then
		fail tree-findings "missing:$missing"
	else
		pass tree-findings
	fi
	missing=''
	for c in tree.elf-pie tree.elf-relro tree.elf-bind-now tree.elf-stack-protector tree.elf-fortify tree.elf-nx-stack; do
		lacks_path "$tmp/tree.json" "$c" /usr/bin/hard || missing+=" $c"
	done
	if [ -z "$missing" ] && lacks_path "$tmp/tree.json" tree.world-writable /tmp; then
		pass tree-hardened-clean
	else
		fail tree-hardened-clean "/usr/bin/hard or /tmp reported by:$missing"
	fi
	[ "$(rc_of tree)" = 1 ] && pass tree-blocks || fail tree-blocks "exit $(rc_of tree), want 1"

	# init: a program whose loader is missing from the tree blocks too;
	# with the loader there, init is fine.
	local interp
	interp=$(readelf -lW "$tmp/root/usr/bin/hard" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	ln -sf /usr/bin/hard "$tmp/root/sbin/init.new" && mv -f "$tmp/root/sbin/init.new" "$tmp/root/sbin/init"
	run init-noloader --policies "$tmp/tpol" --root "$tmp/root"
	mkdir -p "$tmp/root/$(dirname "$interp")"
	cp "$interp" "$tmp/root/$interp"
	run init-loader --policies "$tmp/tpol" --root "$tmp/root"
	if grep -q "init '/sbin/init' needs '$interp', which cannot be run" "$tmp/init-noloader.out" &&
		! grep -q 'tree.init' "$tmp/init-loader.out"; then
		pass tree-init-loader
	else
		fail tree-init-loader "$(grep 'tree.init' "$tmp/init-noloader.out" "$tmp/init-loader.out" | head -n 2)"
	fi
	rmdir "$tmp/root/var"
	run novar --policies "$tmp/tpol" --root "$tmp/root"
	if has_finding "$tmp/novar.json" tree.state-mount:state.mount block; then
		pass tree-state-mount
	else
		fail tree-state-mount "$(grep 'state' "$tmp/novar.out" | head -n 2)"
	fi
}

# The IMA policy, with sealroot-imalint's parser, and what it says of the
# configuration.
test_ima_policy() {
	local uuid=0c5bd4e3-7d1b-4f3c-9a71-0e8f3d2c1b5a
	make_policies "$tmp/ipol" state=PARTLABEL=sealroot-state state.fsuuid=$uuid evm=off root.fstype=erofs
	printf 'measure func=BPRM_CHECK\nappraise func=BPRM_CHECK mask=MAY_EXEC\nbogus rule\n' >"$tmp/ipol/ima-policy"
	run ima-bad --policies "$tmp/ipol"
	if [ "$(rc_of ima-bad)" = 1 ] && has_finding "$tmp/ima-bad.json" policy.ima-lint:ima-policy:3 block &&
		grep -q "ima-policy:3: a rule starts with its action" "$tmp/ima-bad.out"; then
		pass ima-lint-blocks
	else
		fail ima-lint-blocks "exit $(rc_of ima-bad): $(grep -i ima "$tmp/ima-bad.out" | head -n 2 | tr '\n' ' ')"
	fi
	# Appraising every file system by hash: EVM is off, and the verified
	# (erofs) root is not exempted; the state volume is covered.
	printf 'appraise func=BPRM_CHECK mask=MAY_EXEC\n' >"$tmp/ipol/ima-policy"
	run ima-all --policies "$tmp/ipol"
	if has_finding "$tmp/ima-all.json" policy.evm:evm high && has_finding "$tmp/ima-all.json" policy.root-exempt:root high &&
		! grep -q 'policy.state-covered' "$tmp/ima-all.out"; then
		pass ima-consistency
	else
		fail ima-consistency "$(grep -E 'policy\.' "$tmp/ima-all.out" | head -n 3 | tr '\n' ' ')"
	fi
	# The root exempted first (erofs), the state volume by its UUID only.
	printf 'dont_appraise fsmagic=0xe0f5e1e2\nappraise fsuuid=%s\n' "$uuid" >"$tmp/ipol/ima-policy"
	run ima-ok --policies "$tmp/ipol"
	if ! grep -qE 'policy\.(root-exempt|state-covered|ima-lint)' "$tmp/ima-ok.out"; then
		pass ima-consistent
	else
		fail ima-consistent "$(grep -E 'policy\.' "$tmp/ima-ok.out" | head -n 3 | tr '\n' ' ')"
	fi
	printf 'appraise fsuuid=ffffffff-7d1b-4f3c-9a71-0e8f3d2c1b5a\n' >"$tmp/ipol/ima-policy"
	run ima-other --policies "$tmp/ipol"
	if has_finding "$tmp/ima-other.json" policy.state-covered:state.mount high; then
		pass ima-state-uncovered
	else
		fail ima-state-uncovered "$(grep -E 'policy\.' "$tmp/ima-other.out" | head -n 3 | tr '\n' ' ')"
	fi
}

# Signing: PCR 7 is the db key's ---------------------------------------------------

test_dev_key() {
	if ! command -v openssl >/dev/null; then
		skip dev-key "no openssl"
		return
	fi
	for k in prod dev; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/$k.key" -out "$tmp/$k.crt" \
			-subj "/CN=$k" -days 1 >/dev/null 2>&1 || { fail dev-key "openssl req failed"; return; }
	done
	openssl x509 -in "$tmp/prod.crt" -outform DER -out "$tmp/prod.der"
	make_policies "$tmp/devpol" mode=development root.verity=optional
	run devprod --policies "$tmp/devpol" --shell --signing-cert "$tmp/prod.crt" --production-cert "$tmp/prod.der"
	run devdev --policies "$tmp/devpol" --shell --signing-cert "$tmp/dev.crt" --production-cert "$tmp/prod.der"
	run devnone --policies "$tmp/devpol" --signing-cert "$tmp/dev.crt"
	if [ "$(rc_of devprod)" = 1 ] && grep -q 'signed with the production key' "$tmp/devprod.out" &&
		grep -q 'fix: sign development images with their own db key' "$tmp/devprod.out"; then
		pass dev-key-production-blocks
	else
		fail dev-key-production-blocks "exit $(rc_of devprod): $(grep signing "$tmp/devprod.out" | head -n 1)"
	fi
	if [ "$(rc_of devdev)" = 0 ] && ! grep -q 'signing.dev-key' "$tmp/devdev.out"; then
		pass dev-key-own-key
	else
		fail dev-key-own-key "exit $(rc_of devdev)"
	fi
	if [ "$(rc_of devnone)" = 0 ] && has_finding "$tmp/devnone.json" signing.dev-key:production-key high; then
		pass dev-key-unknown-advice
	else
		fail dev-key-unknown-advice "exit $(rc_of devnone)"
	fi
}

# The validator itself refuses a report the schema does not allow.
test_schema_rejects() {
	python3 - "$tmp/full.json" "$tmp/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["findings"].append({"id": "kernel.required", "check": "kernel.required", "group": "kernel",
                      "severity": "urgent", "topic": None, "subject": None, "message": "x",
                      "fix": None, "count": 0, "paths": []})
json.dump(d, open(sys.argv[2], "w"))
PY
	if "$validate" "$schema" "$tmp/bad.json" >"$tmp/bad.out" 2>&1; then
		fail schema-rejects "a severity 'urgent' validated"
	elif grep -q "is not one of" "$tmp/bad.out"; then
		pass schema-rejects
	else
		fail schema-rejects "$(head -n 2 "$tmp/bad.out")"
	fi
}

# mkinitramfs -------------------------------------------------------------------------

make_init() {
	if [ -x "$O/init" ]; then
		init=$O/init
	else
		init=$tmp/init
		printf 'int main(void) { return 0; }\n' >"$tmp/init.c"
		"${CC:-cc}" -static -O2 -o "$init" "$tmp/init.c" 2>>"$tmp/cc.log" || return 1
	fi
}

test_mkinitramfs() {
	local base rc
	if ! make_init; then
		fail mkinitramfs-init "cannot build a static test init: $(tail -n 2 "$tmp/cc.log")"
		return
	fi
	make_policies "$tmp/mpol" 'modules=' root.fstype=erofs mode=development root.verity=optional
	base=(--init "$init" --tool-dir "$tooldir" --policies "$tmp/mpol" --compress gzip)
	rc=0
	"$mk" "${base[@]}" --kconfig "$tmp/full.config" --initramfs "$tmp/ok.img" >"$tmp/mk-ok.out" 2>&1 || rc=$?
	if [ $rc = 0 ] && [ -s "$tmp/ok.img" ] && grep -q '^sealroot-audit: ' "$tmp/mk-ok.out"; then
		pass mkinitramfs-short-audit
	else
		fail mkinitramfs-short-audit "exit $rc: $(tail -n 3 "$tmp/mk-ok.out" | tr '\n' ' ')"
	fi
	rc=0
	full_kconfig RD_GZIP >"$tmp/nogzip.config"
	"$mk" "${base[@]}" --kconfig "$tmp/nogzip.config" --initramfs "$tmp/no.img" >"$tmp/mk-no.out" 2>&1 || rc=$?
	if [ $rc = 1 ] && [ ! -e "$tmp/no.img" ] &&
		grep -q "CONFIG_RD_GZIP is not set: the initramfs's compression (gzip) needs it" "$tmp/mk-no.out" &&
		grep -q 'mkinitramfs: audit: blocked' "$tmp/mk-no.out"; then
		pass mkinitramfs-blocked
	else
		fail mkinitramfs-blocked "exit $rc: $(tail -n 3 "$tmp/mk-no.out" | tr '\n' ' ')"
	fi
	rc=0
	"$mk" "${base[@]}" --audit --kconfig "$tmp/full.config" --root "$tmp/root" \
		--audit-json "$tmp/mk.json" >"$tmp/mk-audit.out" 2>"$tmp/mk-audit.err" || rc=$?
	local verdict
	verdict=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["verdict"])' "$tmp/mk.json" 2>/dev/null)
	if grep -q '^MEDIUM \[tree.setuid\] 1 setuid programs' "$tmp/mk-audit.out" &&
		grep -q '^sealroot-audit: kernel configuration ' "$tmp/mk-audit.out" &&
		{ { [ $rc = 1 ] && [ "$verdict" = blocked ]; } || { [ $rc = 0 ] && [ "$verdict" = advice ]; }; }; then
		pass mkinitramfs-audit-only
	else
		fail mkinitramfs-audit-only "exit $rc, verdict $verdict: $(tail -n 2 "$tmp/mk-audit.out" "$tmp/mk-audit.err" | tr '\n' ' ')"
	fi
	valid mkinitramfs "$tmp/mk.json"
}

# Done when: mkinitramfs --audit on the test image's root tree and the
# Debian kernel configuration prints its report.
test_mkinitramfs_debian() {
	local tree moddir rc=0
	moddir=$(ls -d "$cache"/kernel/*/lib/modules/* 2>/dev/null | head -n 1)
	tree=$(ls -dt "$cache"/basetree/tree-* 2>/dev/null | grep -v '\.used$' | head -n 1)
	if [ -z "$moddir" ] || [ -z "$tree" ] || ! make_init; then
		skip mkinitramfs-debian "no cached test kernel or base tree in $cache (make check builds them)"
		return
	fi
	"$mk" --init "$init" --tool-dir "$tooldir" --moddir "$moddir" --root "$tree" --audit \
		>"$tmp/mk-debian.out" 2>&1 || rc=$?
	if [ $rc = 0 ] && grep -q '^sealroot-audit: kernel configuration .*/boot/config-' "$tmp/mk-debian.out" &&
		grep -q '^MEDIUM \[kernel.hardening/kexec\]' "$tmp/mk-debian.out" &&
		grep -q '^MEDIUM \[tree.setuid\]' "$tmp/mk-debian.out" &&
		grep -q '^sealroot-audit: advice only: 0 blocking' "$tmp/mk-debian.out"; then
		pass mkinitramfs-debian
	else
		fail mkinitramfs-debian "exit $rc: $(grep -E '^(BLOCK|mkinitramfs)' "$tmp/mk-debian.out" | head -n 3 | tr '\n' ' ')"
	fi
}

test_required_blocks
test_embedded_config
test_debian_config
test_tree
test_ima_policy
test_dev_key
test_schema_rejects
test_mkinitramfs
test_mkinitramfs_debian
exit $failed
