#!/usr/bin/env bash
# make install DESTDIR=... PREFIX=/usr, then the installed packer run from
# elsewhere (another cwd, through a symlink): it must pack the installed
# init, mke2fs and policies and run the installed tools, not the source
# tree's; explicit --init/--policies/--tool-dir still win. The installed
# copies are marked so that the initramfs shows which were used. A fake
# modules tree stands in for a kernel's.
# Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
failed=0

pass() { echo "PASS install-$1"; }
fail() { echo "FAIL install-$1: $2"; failed=1; }

mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
dest=$tmp/dest
lib=$dest/usr/lib/sealroot
share=$dest/usr/share/sealroot

test_layout() {
	local f missing=''
	if ! make -s -C "$top" O="$O" install DESTDIR="$dest" PREFIX=/usr >"$tmp/make.log" 2>&1; then
		fail make "$(tail -n 3 "$tmp/make.log")"
		return 1
	fi
	for f in bin/sealroot-mkinitramfs lib/sealroot/init lib/sealroot/mke2fs \
		lib/sealroot/sealroot-lint lib/sealroot/sealroot-mkcpio; do
		[ -x "$dest/usr/$f" ] || missing+=" $f"
	done
	[ -f "$share/policies/sealroot.conf" ] || missing+=" share/sealroot/policies/sealroot.conf"
	for f in $(cd "$top/policies" && find . -type f); do
		cmp -s "$top/policies/$f" "$share/policies/$f" || missing+=" share/sealroot/policies/${f#./}"
	done
	if [ -n "$missing" ]; then
		fail layout "not installed:$missing"
		return 1
	fi
	pass layout
}

# The installed copies, marked; the lint tool wrapped to show it ran.
mark_installed() {
	printf '\nSEALROOT-INSTALLED-INIT\n' >>"$lib/init"
	printf '\nSEALROOT-INSTALLED-MKE2FS\n' >>"$lib/mke2fs"
	# A state volume, so that mke2fs is packed too.
	sed -i -e 's/^state *=.*/state = PARTLABEL=sealroot-state/' \
		-e '1i # SEALROOT-INSTALLED-POLICY' "$share/policies/sealroot.conf"
	mv "$lib/sealroot-lint" "$lib/sealroot-lint.real"
	printf '#!/bin/sh\n: >"%s"\nexec "%s" "$@"\n' "$tmp/lint-used" "$lib/sealroot-lint.real" \
		>"$lib/sealroot-lint"
	chmod 755 "$lib/sealroot-lint"
}

# Every module the default policies and a state volume want, as
# ELF-looking files with no dependencies.
fake_moddir() {
	local md=$tmp/modules m
	mkdir -p "$md/kernel"
	: >"$md/modules.dep"
	for m in virtio_pci virtio_blk crc32c_generic dm_verity dm_crypt xts ecb ext4 erofs squashfs; do
		printf '\177ELF fake %s\n' "$m" >"$md/kernel/$m.ko"
		echo "kernel/$m.ko:" >>"$md/modules.dep"
	done
}

# $1 = cpio, $2 = path in it; prints the file.
cpio_get() {
	(cd "$tmp" && cpio -i --quiet --to-stdout "$2" <"$1")
}

test_installed_defaults() {
	local why='' img=$tmp/elsewhere/initrd.cpio
	mkdir -p "$tmp/elsewhere/bin"
	ln -s "$dest/usr/bin/sealroot-mkinitramfs" "$tmp/elsewhere/bin/mkinitramfs"
	if ! (cd "$tmp/elsewhere" && PATH=$tmp/elsewhere/bin:$PATH mkinitramfs \
		--moddir "$tmp/modules" --compress none --initramfs initrd.cpio) >"$tmp/run.log" 2>&1; then
		fail run "$(tail -n 3 "$tmp/run.log")"
		return
	fi
	cpio_get "$img" init | cmp -s - "$lib/init" || why+=" /init is not the installed init"
	cpio_get "$img" sbin/mke2fs | cmp -s - "$lib/mke2fs" || why+=" /sbin/mke2fs is not the installed one"
	cpio_get "$img" etc/sealroot.conf | cmp -s - "$share/policies/sealroot.conf" ||
		why+=" /etc/sealroot.conf is not the installed policy"
	[ -e "$tmp/lint-used" ] || why+=" the installed sealroot-lint did not run"
	if cpio -t --quiet <"$img" | grep -q '^etc/sealroot/examples'; then
		why+=" policies/examples/ was packed"
	fi
	if [ -z "$why" ]; then pass installed-defaults; else fail installed-defaults "$why"; fi
}

# Explicit options over the installed defaults.
test_explicit() {
	local why='' img=$tmp/explicit.cpio
	rm -f "$tmp/lint-used"
	mkdir -p "$tmp/other/pol"
	sed 's/^modules *=.*/modules =/' "$top/policies/sealroot.conf" >"$tmp/other/pol/sealroot.conf"
	cp "$top/policies/ima-policy" "$tmp/other/pol/ima-policy"
	cp "$lib/init" "$tmp/other/init"
	printf 'OTHER-INIT\n' >>"$tmp/other/init"
	if ! (cd "$tmp/other" && "$dest/usr/bin/sealroot-mkinitramfs" --init "$tmp/other/init" \
		--policies "$tmp/other/pol" --tool-dir "$O/host" --compress none \
		--initramfs "$img") >"$tmp/explicit.log" 2>&1; then
		fail explicit "$(tail -n 3 "$tmp/explicit.log")"
		return
	fi
	cpio_get "$img" init | cmp -s - "$tmp/other/init" || why+=" --init not used"
	cpio_get "$img" etc/sealroot.conf | cmp -s - "$tmp/other/pol/sealroot.conf" || why+=" --policies not used"
	[ ! -e "$tmp/lint-used" ] || why+=" the installed sealroot-lint ran despite --tool-dir"
	if [ -z "$why" ]; then pass explicit-options; else fail explicit-options "$why"; fi
}

if test_layout; then
	mark_installed
	fake_moddir
	test_installed_defaults
	test_explicit
fi
exit $failed
