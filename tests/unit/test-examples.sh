#!/usr/bin/env bash
# The shipped configurations: policies/sealroot.conf and the examples in
# policies/examples/ each set every key of the parser's table, pass
# sealroot-lint alone and with the command line their use boots with,
# and have the properties their use promises (production: a plain root
# refused; the appliance reboots and has no recovery key; the gateway
# shows one and seals to more than PCR 7; development may boot a plain
# root). With a test kernel (SEALROOT_MODDIR, or the cached one), each
# is packed by mkinitramfs, so every module it names exists.
# Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
lint=${SEALROOT_TOOL_DIR:-$O/host}/sealroot-lint
roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
verified="console=ttyS0 ro roothash=$roothash"
plain="console=ttyS0 ro root=PARTLABEL=sealroot-root"
failed=0

pass() { echo "PASS examples-$1"; }
fail() { echo "FAIL examples-$1: $2"; failed=1; }

[ -x "$lint" ] || { fail tools "'$lint' is missing (make)"; exit 1; }
mkdir -p "$O/tests"
tmp=$(mktemp -d "$O/tests/examples.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
keys=$("$lint" --keys | cut -f1)

# Every key of the table, set in the file: what boots is read there.
check_full() {	# NAME FILE
	local k missing=''
	for k in $keys; do
		grep -Eq "^${k//./\\.} *=" "$2" || missing+=" $k"
	done
	if [ -z "$missing" ]; then pass "$1-full"; else fail "$1-full" "keys not set:$missing"; fi
}

lints() {	# NAME FILE [CMDLINE]
	local err
	if err=$("$lint" ${3:+--cmdline "$3"} "$2" 2>&1 >/dev/null); then
		pass "$1"
	else
		fail "$1" "${err//$'\n'/ | }"
	fi
}

refused() {	# NAME FILE CMDLINE MESSAGE
	local err
	if err=$("$lint" --cmdline "$3" "$2" 2>&1 >/dev/null); then
		fail "$1" "accepted"
	elif [[ $err != *"$4"* ]]; then
		fail "$1" "message: $err"
	else
		pass "$1"
	fi
}

# NAME FILE KEY=VALUE...: the effective configuration has these values.
has() {
	local name=$1 file=$2 kv why='' cfg
	shift 2
	cfg=$("$lint" --print "$file" 2>/dev/null)
	for kv in "$@"; do
		grep -qxF -- "$kv" <<<"$cfg" || why+=" want $kv, got '$(grep -F "${kv%%=*}=" <<<"$cfg" | head -n 1)'"
	done
	if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

test_files() {
	local d=$top/policies/examples f
	for f in "$top/policies/sealroot.conf" "$d/appliance.conf" "$d/gateway.conf" "$d/development.conf"; do
		[ -f "$f" ] || { fail files "missing ${f#$top/}"; return 1; }
	done
	for f in "$d"/*; do
		case ${f##*/} in
		appliance.conf|gateway.conf|development.conf) ;;
		*) fail files "${f#$top/}: an example the test does not know" ;;
		esac
	done
	pass files
}

test_default() {
	local f=$top/policies/sealroot.conf
	check_full default "$f"
	lints default-lint "$f"
	lints default-verified "$f" "$verified"
	refused default-no-plain-root "$f" "$plain" "root.verity = required"
}

test_appliance() {
	local f=$top/policies/examples/appliance.conf
	check_full appliance "$f"
	lints appliance-lint "$f"
	lints appliance-verified "$f" "$verified"
	refused appliance-no-plain-root "$f" "$plain" "root.verity = required"
	has appliance-promises "$f" mode=production root.verity=required failure.action=reboot \
		state.recovery=none tpm.pcrs=7
	grep -q '^state=.' <<<"$("$lint" --print "$f")" && pass appliance-state ||
		fail appliance-state "no state volume"
}

test_gateway() {
	local f=$top/policies/examples/gateway.conf pcrs
	check_full gateway "$f"
	lints gateway-lint "$f"
	lints gateway-verified "$f" "$verified"
	refused gateway-no-plain-root "$f" "$plain" "root.verity = required"
	has gateway-promises "$f" mode=production root.verity=required state.recovery=show
	pcrs=$("$lint" --print "$f" | sed -n 's/^tpm\.pcrs=//p')
	if [[ ,$pcrs, == *,7,* ]] && [ "$pcrs" != 7 ]; then
		pass gateway-pcrs
	else
		fail gateway-pcrs "tpm.pcrs '$pcrs': want 7 and more"
	fi
}

test_development() {
	local f=$top/policies/examples/development.conf
	check_full development "$f"
	lints development-lint "$f"
	lints development-plain-root "$f" "$plain"
	lints development-verified "$f" "$verified"
	has development-promises "$f" mode=development root.verity=optional
}

find_moddir() {
	local line
	if [ -z "${SEALROOT_MODDIR:-}" ]; then
		while IFS= read -r line; do
			case $line in MODDIR=*) SEALROOT_MODDIR=${line#MODDIR=} ;; esac
		done < <("$top/tests/vm/kernel" --offline 2>/dev/null)
	fi
	[ -n "${SEALROOT_MODDIR:-}" ] && [ -f "$SEALROOT_MODDIR/modules.dep" ]
}

# Each example packed, as an integrator would: copied as sealroot.conf.
test_pack() {
	local name extra log
	if ! find_moddir || [ ! -x "$O/init" ] || [ ! -x "$O/mke2fs" ]; then
		echo "SKIP examples-pack: no test kernel (SEALROOT_MODDIR) or no build/init, build/mke2fs"
		return
	fi
	for name in appliance gateway development; do
		mkdir -p "$tmp/$name"
		cp "$top/policies/examples/$name.conf" "$tmp/$name/sealroot.conf"
		cp "$top/policies/ima-policy" "$tmp/$name/ima-policy"
		extra=()
		[ $name != development ] || extra=(--shell "$O/init")
		log=$tmp/$name.log
		if "$top/mkinitramfs" --policies "$tmp/$name" --moddir "$SEALROOT_MODDIR" \
			--compress none --initramfs "$tmp/$name.cpio" "${extra[@]}" >"$log" 2>&1; then
			pass "$name-pack"
		else
			fail "$name-pack" "$(grep -v warning "$log" | tail -n 2 | tr '\n' ' ')"
		fi
	done
}

if test_files; then
	test_default
	test_appliance
	test_gateway
	test_development
	test_pack
fi
exit $failed
