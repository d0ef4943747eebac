#!/usr/bin/env bash
# The signing key and its passphrase in mkinitramfs: an encrypted key
# signs a UKI that sbverify accepts, with the passphrase from a file
# descriptor, a file or the environment; the decrypted key never lands in
# a file (TMPDIR, the output directory) and the passphrase never in a
# program's argv or environment, checked by a spy on PATH around openssl,
# sbsign and the other tools mkinitramfs runs; pass:TEXT and a wrong
# passphrase are refused; a run killed while signing leaves no key behind
# (TERM: nothing at all). The systemd-stub stands in for the kernel.
# Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
tooldir=${SEALROOT_TOOL_DIR:-$O/host}
mk=$top/mkinitramfs
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
failed=0

pass() { echo "PASS mkinitramfs-key-$1"; }
fail() { echo "FAIL mkinitramfs-key-$1: $2"; failed=1; }

for t in openssl sbsign sbverify; do
	command -v "$t" >/dev/null || { fail tools "'$t' is missing (deps/setup)"; exit 1; }
done
[ -r "$stub" ] || { fail tools "no systemd-stub at $stub (deps/setup)"; exit 1; }
[ -x "$tooldir/sealroot-lint" ] || { fail tools "'$tooldir/sealroot-lint' is missing (make)"; exit 1; }

mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/mkinitramfs-key.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
mkdir -p "$tmp/in/pol" "$tmp/bin" "$tmp/scratch" "$tmp/out"
# Blanks and a quote: the passphrase must survive every hand-over whole.
pp="correct horse \"battery\" $$-$RANDOM"
export SOURCE_DATE_EPOCH=1700000000

make_inputs() {
	if [ -x "$O/init" ]; then
		init=$O/init
	else
		init=$tmp/in/init
		printf 'int main(void) { return 0; }\n' >"$tmp/in/init.c"
		"${CC:-cc}" -static -O2 -o "$init" "$tmp/in/init.c" || return 1
	fi
	sed 's/^modules *=.*/modules =/' "$top/policies/sealroot.conf" >"$tmp/in/pol/sealroot.conf"
cp "$top/policies/ima-policy" "$tmp/in/pol/ima-policy"
	openssl req -x509 -newkey rsa:2048 -sha256 -days 3650 -subj /CN=sealroot-key-test \
		-keyout "$tmp/in/key.pem" -passout fd:3 -out "$tmp/in/cert.pem" \
		3< <(printf '%s\n' "$pp") 2>/dev/null || return 1
	grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$tmp/in/key.pem" || return 1
	# What the decrypted key would leave in a file, in any encoding: a PEM
	# header (whole: libcrypto in init has "PRIVATE KEY" as a string), or
	# the first 16 bytes of its prime p (DER, raw); and the passphrase.
	printf '%s\n' 'BEGIN PRIVATE KEY' 'BEGIN RSA PRIVATE KEY' "$pp" >"$tmp/in/patterns"
	openssl rsa -in <(openssl pkey -in "$tmp/in/key.pem" -passin fd:3 3< <(printf '%s\n' "$pp")) \
		-noout -text 2>/dev/null |
		awk '/^prime1:/ { on = 1; next } on && /^ / { gsub(/[ :]/, ""); h = h $0; next } on { exit }
		     END { sub(/^00/, "", h); h = substr(h, 1, 32); gsub(/../, "\\x&", h); print h }' \
		>"$tmp/in/der"
	[ "$(wc -c <"$tmp/in/der")" -eq 65 ]
}

# The spy: logs each call's argv, its environment and its parent's argv,
# looks for key material in the scanned directories before and after the
# real program runs, and notes whether a key argument is a pipe.
# SPY_KILL=SIG sends SIG to mkinitramfs when sbsign starts.
make_spy() {
	cat >"$tmp/bin/spy" <<'SPY'
#!/usr/bin/env bash
name=${0##*/}
real=$(PATH=$SPY_PATH command -v "$name")
scan() {
	local d hits
	for d in $SPY_SCAN; do
		hits=$(grep -rlaF -f "$SPY_DIR/in/patterns" "$d" 2>/dev/null
		       grep -rlaP "$(cat "$SPY_DIR/in/der")" "$d" 2>/dev/null)
		[ -z "$hits" ] || echo "ON-DISK $1 $name: ${hits//$'\n'/ }" >>"$SPY_DIR/spy.log"
	done
}
{
	printf 'CALL %s' "$name"; printf ' [%s]' "$@"; echo
	printf 'PARENT '; tr '\0' ' ' </proc/$PPID/cmdline; echo
	printf 'ENV '; env | tr '\n' ' '; echo
} >>"$SPY_DIR/spy.log"
prev=
for a in "$@"; do
	case $prev in
	--key|-sign|-inkey) [ -p "$a" ] && echo "KEY-ARG $name pipe" >>"$SPY_DIR/spy.log" ||
		echo "KEY-ARG $name not-a-pipe $a" >>"$SPY_DIR/spy.log" ;;
	esac
	prev=$a
done
scan before
if [ "$name" = sbsign ] && [ -n "${SPY_KILL:-}" ]; then
	kill -s "$SPY_KILL" "$PPID"
	sleep 0.2
fi
"$real" "$@"
rc=$?
scan after
exit $rc
SPY
	chmod +x "$tmp/bin/spy"
	for t in openssl sbsign sbattach sbverify objcopy objdump readelf zstd; do
		ln -s spy "$tmp/bin/$t"
	done
}

# $1 = output file; the rest: options. Runs with the spy first on PATH,
# TMPDIR the empty scratch directory; the status in $rc, stderr in $err.
mkuki() {
	local out=$1 path=$PATH
	shift
	: >"$tmp/spy.log"
	rc=0
	err=$(SPY_PATH=$path SPY_DIR=$tmp SPY_SCAN="$tmp/scratch $tmp/out" PATH=$tmp/bin:$path \
		TMPDIR=$tmp/scratch "$mk" --init "$init" --policies "$tmp/in/pol" --tool-dir "$tooldir" \
		--kernel "$stub" --cmdline "ro roothash=$roothash" --compress none \
		--key "$tmp/in/key.pem" --cert "$tmp/in/cert.pem" --output "$out" "$@" 2>&1 >/dev/null) ||
		rc=$?
}

# Whatever the run, none of these may hold: key material in a file, the
# passphrase in an argv or environment, a key handed over as a file.
spy_clean() {	# NAME
	local why=''
	grep -q '^CALL sbsign' "$tmp/spy.log" || why+=" (the spy saw no sbsign call)"
	grep -q '^CALL openssl' "$tmp/spy.log" || why+=" (the spy saw no openssl call)"
	why+=$(grep '^ON-DISK' "$tmp/spy.log" | head -n 3 | tr '\n' ' ')
	grep -qF -- "$pp" "$tmp/spy.log" && why+=" passphrase in an argv or environment:$(grep -F -- "$pp" "$tmp/spy.log" | cut -c1-60 | head -n 1)"
	grep -q '^KEY-ARG .* not-a-pipe' "$tmp/spy.log" && why+=" $(grep -m1 '^KEY-ARG .* not-a-pipe' "$tmp/spy.log")"
	grep -q '^KEY-ARG sbsign pipe' "$tmp/spy.log" || why+=" sbsign's --key was not seen as a pipe"
	if [ -z "$why" ]; then pass "$1"; else fail "$1" "$why"; fi
}

scratch_empty() {	# NAME
	local left
	left=$(find "$tmp/scratch" "$tmp/out" -mindepth 1 ! -name '*.efi' | head -n 3)
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "left behind: ${left//$'\n'/ }"; fi
}

test_fd() {
	mkuki "$tmp/out/fd.efi" --key-pass-fd 3 3< <(printf '%s\n' "$pp")
	if [ $rc -ne 0 ]; then
		fail fd "exit status $rc: $err"
		return 1
	fi
	if sbverify --cert "$tmp/in/cert.pem" "$tmp/out/fd.efi" >/dev/null 2>&1; then
		pass fd-sbverify
	else
		fail fd-sbverify "the UKI does not verify with the key's certificate"
	fi
	spy_clean fd-no-key-on-disk-no-pass-in-argv
	scratch_empty fd-scratch-empty
}

test_file() {
	printf '%s\n' "$pp" >"$tmp/in/pass"
	mkuki "$tmp/out/file.efi" --key-pass-file "$tmp/in/pass"
	if [ $rc -ne 0 ]; then
		fail file "exit status $rc: $err"
	elif ! cmp -s "$tmp/out/fd.efi" "$tmp/out/file.efi"; then
		fail file "the UKI differs from the one signed with --key-pass-fd"
	else
		pass file-same-uki
	fi
	spy_clean file-no-key-on-disk
}

# env:VAR: read, then removed from the environment of every program run.
test_env() {
	SEALROOT_TEST_PASS=$pp mkuki "$tmp/out/env.efi" --key-pass env:SEALROOT_TEST_PASS
	if [ $rc -ne 0 ]; then
		fail env "exit status $rc: $err"
	elif ! cmp -s "$tmp/out/fd.efi" "$tmp/out/env.efi"; then
		fail env "the UKI differs from the one signed with --key-pass-fd"
	else
		pass env-same-uki
	fi
	spy_clean env-not-inherited
}

refused() {	# NAME MESSAGE OUTPUT mkuki-args...
	local name=$1 msg=$2 out=$3
	shift 3
	mkuki "$out" "$@"
	if [ $rc -ne 1 ]; then
		fail "$name" "exit status $rc, want 1 ($err)"
	elif [[ $err != *"$msg"* ]]; then
		fail "$name" "message: ${err//$'\n'/ | }"
	elif [[ $err == *"$pp"* ]]; then
		fail "$name" "the message shows the passphrase"
	elif [ -e "$out" ]; then
		fail "$name" "an output was written"
	else
		pass "$name"
	fi
}

test_refusals() {
	refused pass-refused "a passphrase on the command line is visible" "$tmp/out/r1.efi" \
		--key-pass "pass:$pp"
	refused bare-refused "expected fd:N, file:PATH or env:VAR" "$tmp/out/r2.efi" \
		--key-pass "$pp"
	refused wrong-passphrase "wrong passphrase" "$tmp/out/r3.efi" \
		--key-pass-fd 3 3< <(printf 'not the passphrase\n')
	refused no-passphrase "it is encrypted" "$tmp/out/r4.efi"
	refused closed-fd "cannot read the passphrase from file descriptor 7" "$tmp/out/r5.efi" \
		--key-pass-fd 7
	refused two-sources "one passphrase source only" "$tmp/out/r6.efi" \
		--key-pass-fd 3 --key-pass-file "$tmp/in/pass" 3< <(printf '%s\n' "$pp")
	scratch_empty refusals-scratch-empty
}

# Killed while sbsign runs: TERM cleans everything up; KILL cannot, but
# what stays holds no key.
test_kill() {
	SPY_KILL=TERM mkuki "$tmp/out/term.efi" --key-pass-fd 3 3< <(printf '%s\n' "$pp")
	if [ $rc -eq 0 ]; then
		fail kill-term "mkinitramfs finished despite TERM"
	else
		scratch_empty kill-term-cleaned
	fi
	SPY_KILL=KILL mkuki "$tmp/out/kill.efi" --key-pass-fd 3 3< <(printf '%s\n' "$pp")
	sleep 1
	if [ $rc -eq 0 ]; then
		fail kill-kill "mkinitramfs finished despite KILL"
	elif [ -z "$(ls -A "$tmp/scratch")" ]; then
		fail kill-kill "nothing left in TMPDIR: was it killed while signing?"
	elif grep -rlaqF -f "$tmp/in/patterns" "$tmp/scratch" ||
		grep -rlaqP "$(cat "$tmp/in/der")" "$tmp/scratch"; then
		fail kill-kill "key material left in TMPDIR after KILL"
	else
		pass kill-kill-no-key-left
	fi
	spy_clean kill-no-key-on-disk
	rm -rf "${tmp:?}"/scratch/*
}

if ! make_inputs; then
	fail inputs "cannot make the test key, certificate or init"
	exit 1
fi
make_spy
if test_fd; then
	test_file
	test_env
fi
test_refusals
test_kill
exit $failed
