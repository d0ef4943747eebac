#!/usr/bin/env bash
# The state marker hook's unseal replay (tests/vm/hooks/state unseal DEV)
# on the host, against systemd 252 itself: systemd-cryptenroll seals a
# LUKS2 image file to PCR 7 of an swtpm; tpm2-tools in the hook must unseal
# it (proof that the primary key template and the blob split are right),
# and be refused with a policy failure once PCR 7 is extended (the barrier
# the VM scenarios look for). Prints "PASS name" / "FAIL name: why" or
# "SKIP ..."; exits 1 on any FAIL. Scratch files under build/tests/.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
hook=$top/tests/vm/hooks/state
failed=0

pass() { echo "PASS state-hook-$1"; }
fail() { echo "FAIL state-hook-$1: $2"; failed=1; }

for t in swtpm systemd-cryptenroll cryptsetup tpm2_createprimary tpm2_load \
	tpm2_unseal tpm2_flushcontext tpm2_pcrextend ss; do
	if ! command -v "$t" >/dev/null; then
		echo "SKIP test-state-hook: $t missing (tests/vm/host-packages, tpm2-tools)"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "SKIP test-state-hook: needs root (cryptsetup on an image file)"
	exit 0
fi

mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/state-hook.XXXXXX")
swtpm_pid=
cleanup() {
	if [ -n "$swtpm_pid" ]; then
		kill "$swtpm_pid" 2>/dev/null
		wait "$swtpm_pid" 2>/dev/null
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT

# swtpm on a free port pair (another process may take it first: retry).
port=
for _ in 1 2 3 4 5; do
	p=$((20000 + RANDOM % 40000))
	ss -ltnH "( sport = :$p or sport = :$((p + 1)) )" | grep -q . && continue
	mkdir -p "$tmp/tpm"
	swtpm socket --tpm2 --server type=tcp,port=$p,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((p + 1)),bindaddr=127.0.0.1 \
		--tpmstate dir="$tmp/tpm" --flags startup-clear,not-need-init \
		--log file="$tmp/swtpm.log" &
	swtpm_pid=$!
	for _ in $(seq 20); do
		ss -ltnH "( sport = :$p )" | grep -q . && break
		sleep 0.1
	done
	if kill -0 "$swtpm_pid" 2>/dev/null && ss -ltnH "( sport = :$p )" | grep -q .; then
		port=$p
		break
	fi
	wait "$swtpm_pid" 2>/dev/null
	swtpm_pid=
done
if [ -z "$port" ]; then
	fail swtpm "cannot start swtpm on a free port ($(tail -n1 "$tmp/swtpm.log" 2>/dev/null))"
	exit 1
fi
export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$port

img=$tmp/state.img
truncate -s 40M "$img"
if ! printf pw | cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 "$img" --key-file - >"$tmp/format.out" 2>&1; then
	fail format "cryptsetup luksFormat: $(tail -n1 "$tmp/format.out")"
	exit 1
fi
cp --sparse=always "$img" "$tmp/plain.img"
if ! PASSWORD=pw systemd-cryptenroll --tpm2-device="$TPM2TOOLS_TCTI" --tpm2-pcrs=7 \
	"$img" >"$tmp/enroll.out" 2>&1; then
	fail enroll "systemd-cryptenroll: $(tail -n1 "$tmp/enroll.out")"
	exit 1
fi

check() {	# NAME DEV WANT  (the hook's whole output must be WANT)
	local got
	got=$("$hook" unseal "$2" 2>&1)
	if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "got: $(echo "$got" | tr '\n' '|')"; fi
}

check unsealed "$img" "unseal-after-barrier: UNSEALED"
check unsealed-twice "$img" "unseal-after-barrier: UNSEALED"
check no-token "$tmp/plain.img" "unseal-after-barrier: cannot find a systemd-tpm2 token on $tmp/plain.img"
tpm2_pcrextend 7:sha256=5ea1200d00000000000000000000000000000000000000000000000000000001 ||
	fail extend "tpm2_pcrextend 7 failed"
check refused-after-extend "$img" "unseal-after-barrier: refused
unseal-error: Esys_Unseal(0x99D) - tpm:session(1):a policy check failed"
exit "$failed"
