#!/usr/bin/env bash
# sealroot-mkcpio against GNU cpio: what we write, cpio lists and unpacks
# as meant. Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
# Scratch files live under build/ and are removed at the end.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
mkcpio=${SEALROOT_TOOL_DIR:-$O/host}/sealroot-mkcpio
failed=0

pass() { echo "PASS mkcpio-$1"; }
fail() { echo "FAIL mkcpio-$1: $2"; failed=1; }

if [ ! -x "$mkcpio" ]; then
	fail mkcpio-present "'$mkcpio' is missing (build it first)"
	exit 1
fi
if ! command -v cpio >/dev/null; then
	echo "SKIP test-mkcpio: GNU cpio is not installed"
	exit 0
fi
mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/mkcpio.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

printf 'hello\n' >"$tmp/hello"
head -c 100003 /dev/urandom >"$tmp/blob"
cat >"$tmp/manifest" <<EOF
# a small tree
dir etc 0755
file etc/hello 0644 $tmp/hello
dir bin 0755

slink bin/sh /init 0777
file init 0755 $tmp/blob
dir tmp 1777
dir dev 0755
nod dev/console 0600 c 5 1
nod dev/sda 0660 b 8 0
EOF

test_list() {
	local got want
	"$mkcpio" --mtime 1700000000 <"$tmp/manifest" >"$tmp/a.cpio" ||
		{ fail list "sealroot-mkcpio exited $?"; return; }
	got=$(cpio -tv --quiet <"$tmp/a.cpio" | awk '{ print $1, $2, $3, $4, $NF }')
	want="drwxr-xr-x 2 root root bin
lrwxrwxrwx 1 root root /init
drwxr-xr-x 2 root root dev
crw------- 1 root root dev/console
brw-rw---- 1 root root dev/sda
drwxr-xr-x 2 root root etc
-rw-r--r-- 1 root root etc/hello
-rwxr-xr-x 1 root root init
drwxrwxrwt 2 root root tmp"
	if [ "$got" = "$want" ]; then pass list; else fail list "cpio -tv says: $got"; fi
}

test_devices() {
	local got
	got=$(cpio -tv --quiet <"$tmp/a.cpio" | awk '/^[cb]/ { print $5, $6, $NF }')
	if [ "$got" = "5, 1 dev/console
8, 0 dev/sda" ]; then pass devices; else fail devices "got: $got"; fi
}

test_extract() {
	local x=$tmp/x why=''
	mkdir "$x"
	grep -v '^nod' "$tmp/manifest" | "$mkcpio" --mtime 1700000000 >"$tmp/b.cpio" ||
		{ fail extract "sealroot-mkcpio exited $?"; return; }
	(cd "$x" && cpio -idm --quiet --no-absolute-filenames <"$tmp/b.cpio") ||
		{ fail extract "cpio -i failed"; return; }
	cmp -s "$x/init" "$tmp/blob" || why="init differs"
	cmp -s "$x/etc/hello" "$tmp/hello" || why="etc/hello differs"
	[ "$(readlink "$x/bin/sh")" = /init ] || why="bin/sh is not -> /init"
	[ "$(stat -c %a "$x/init")" = 755 ] || why="init mode $(stat -c %a "$x/init")"
	[ "$(stat -c %Y "$x/etc/hello")" = 1700000000 ] || why="mtime $(stat -c %Y "$x/etc/hello")"
	if [ -z "$why" ]; then pass extract; else fail extract "$why"; fi
}

test_order_independent() {
	tac "$tmp/manifest" | "$mkcpio" --mtime 1700000000 >"$tmp/c.cpio" ||
		{ fail order-independent "sealroot-mkcpio exited $?"; return; }
	if cmp -s "$tmp/a.cpio" "$tmp/c.cpio"; then
		pass order-independent
	else
		fail order-independent "reversed manifest gives other bytes"
	fi
}

test_trailer() {
	local size tail
	size=$(stat -c %s "$tmp/a.cpio")
	tail=$(tail -c 124 "$tmp/a.cpio" | head -c 120 | tail -c 10)
	if [ $((size % 4)) -eq 0 ] && [ "$tail" = 'TRAILER!!!' ]; then
		pass trailer
	else
		fail trailer "size $size, tail '$tail'"
	fi
}

# $1 = name, $2 = manifest text, $3 = expected message
refuses() {
	local rc=0 err
	err=$(printf '%s\n' "$2" | "$mkcpio" 2>&1 >"$tmp/err.cpio") || rc=$?
	if [ $rc -ne 1 ]; then
		fail "$1" "exit status $rc, want 1"
	elif [[ $err != *"$3"* ]]; then
		fail "$1" "message '$err'"
	elif [ -s "$tmp/err.cpio" ]; then
		fail "$1" "wrote output despite the error"
	else
		pass "$1"
	fi
}

test_refusals() {
	refuses refuse-absolute 'dir /etc 0755' "sealroot-mkcpio: line 1: bad path '/etc'"
	refuses refuse-dotdot $'dir etc 0755\ndir etc/../x 0755' "line 2: bad path 'etc/../x'"
	refuses refuse-duplicate $'dir etc 0755\n# c\ndir etc 0700' "line 3: duplicate path 'etc'"
	refuses refuse-orphan 'file lib/x.ko 0644 /dev/null' "line 1: parent directory 'lib'"
	refuses refuse-mode 'dir etc 0789' "line 1: bad mode '0789'"
	refuses refuse-major 'nod null 0666 c 1x 3' "line 1: bad major '1x'"
	refuses refuse-type 'fiel init 0755 /x' "line 1: unknown entry type 'fiel'"
	refuses refuse-fields 'slink bin/sh /init' "line 1: too few fields"
	refuses refuse-source "file init 0755 $tmp/nonexistent" "line 1: cannot open '$tmp/nonexistent'"
}

test_bad_mtime() {
	local rc=0 err
	err=$("$mkcpio" --mtime 4294967296 </dev/null 2>&1 >/dev/null) || rc=$?
	if [ $rc -eq 1 ] && [[ $err == *"bad --mtime '4294967296'"* ]]; then
		pass refuse-mtime
	else
		fail refuse-mtime "exit $rc, message '$err'"
	fi
}

test_list
test_devices
test_extract
test_order_independent
test_trailer
test_refusals
test_bad_mtime
exit $failed
