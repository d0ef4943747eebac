#!/usr/bin/env bash
# README's "Reference" against its sources of truth: every key of the
# parser's table (sealroot-lint --keys) has an entry with its default,
# its allowed values (enums and ranges) and its command line name and
# rule; the command line table lists exactly the keys the command line
# may set, with their rules; the mkinitramfs and sealroot-lint flags are
# exactly those of their --help. Nothing in the reference that the
# sources do not have, either.
# Prints "PASS name" / "FAIL name: why"; exits 1 on any FAIL.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
lint=${SEALROOT_TOOL_DIR:-$O/host}/sealroot-lint
readme=$top/README
failed=0

pass() { echo "PASS reference-$1"; }
fail() { echo "FAIL reference-$1: $2"; failed=1; }

[ -x "$lint" ] || { fail tools "'$lint' is missing (make)"; exit 1; }

# The lines of README's subsection HEADING (underlined with ~), up to the
# next heading of either level.
section() {
	awk -v h="$1" '
		{ line[NR] = $0 }
		END {
			for (i = 1; i < NR; i++)
				if (line[i] == h && line[i + 1] ~ /^~+$/) break
			for (j = i + 2; j <= NR; j++) {
				if (line[j] != "" && line[j + 1] ~ /^(~+|-+)$/) break
				print line[j]
			}
		}' "$readme"
}

# The key table with its tabs as unit separators: a tab is blank to
# read, which would merge an empty default with the next field.
keys() {
	"$lint" --keys | tr '\t' '\037'
}

phrase() {	# rule -> how the reference says it
	case $1 in
	fill) echo "fill in" ;;
	same) echo "repeat only" ;;
	raise) echo "raise only" ;;
	set) echo set ;;
	*) echo "?$1" ;;
	esac
}

test_keys() {
	local sec name def cl rule allowed line want why='' ok=0 k r_def r_values r_cl
	local -A known=()
	sec=$(section "Configuration keys (sealroot.conf)")
	[ -n "$sec" ] || { fail keys "no 'Configuration keys (sealroot.conf)' section in README"; return; }
	while IFS=$'\037' read -r name def cl rule allowed; do
		known[$name]=1
		line=$(grep -A1 -xF "    $name" <<<"$sec" | sed -n 2p)
		if [ -z "$line" ]; then
			why+=" $name: no entry;"
			continue
		fi
		if [[ ! $line =~ ^\ {8}default:\ (.*)\;\ values:\ (.*)\;\ command\ line:\ (.*)$ ]]; then
			why+=" $name: entry not 'default: ...; values: ...; command line: ...';"
			continue
		fi
		r_def=${BASH_REMATCH[1]} r_values=${BASH_REMATCH[2]} r_cl=${BASH_REMATCH[3]}
		want=${def:-(empty)}
		[ "$r_def" = "$want" ] || why+=" $name: default '$r_def', the parser's '$want';"
		if [[ $allowed == *'|'* || $allowed =~ ^[0-9]+\.\.[0-9]+$ ]]; then
			want=${allowed//|/ | }
			[ "$r_values" = "$want" ] || why+=" $name: values '$r_values', the parser's '$want';"
		fi
		if [ "$cl" = - ]; then want=none; else want="$cl= ($(phrase "$rule"))"; fi
		[ "$r_cl" = "$want" ] || why+=" $name: command line '$r_cl', the parser's '$want';"
		ok=$((ok + 1))
	done < <(keys)
	for k in $(grep -E '^    [a-z][a-z.]*$' <<<"$sec"); do
		[ -n "${known[$k]:-}" ] || why+=" $k: in the reference, not in the parser;"
	done
	[ $ok -gt 20 ] || why+=" only $ok keys checked;"
	if [ -z "$why" ]; then pass "config-keys ($ok)"; else fail config-keys "$why"; fi
}

test_cmdline() {
	local sec name def cl rule allowed why='' n=0 row
	local -A known=()
	sec=$(section "Kernel command line keys")
	[ -n "$sec" ] || { fail cmdline "no 'Kernel command line keys' section in README"; return; }
	while IFS=$'\037' read -r name def cl rule allowed; do
		[ "$cl" != - ] || continue
		known[$cl]=1
		n=$((n + 1))
		grep -Eq "^    ${cl//./\\.}= +${name//./\\.} +$(phrase "$rule")\$" <<<"$sec" ||
			why+=" $cl=: no row '$cl= $name $(phrase "$rule")';"
	done < <(keys)
	for row in $(grep -Eo '^    [a-z][a-z._]*=' <<<"$sec"); do
		row=${row%=}
		[ -n "${known[$row]:-}" ] || why+=" $row=: in the reference, not a command line key of the parser;"
	done
	if [ -z "$why" ]; then pass "cmdline-keys ($n)"; else fail cmdline-keys "$why"; fi
}

# $1 = name, $2 = subsection, the rest: the program and its --help.
test_flags() {
	local name=$1 heading=$2 have want extra missing
	shift 2
	have=$(section "$heading" | grep -Eo '^    --[a-z][a-z-]*' | sed 's/^ *//' | sort -u)
	want=$("$@" --help | grep -Eo '^  --[a-z][a-z-]*' | sed 's/^ *//' | sort -u)
	if [ -z "$have" ]; then
		fail "$name" "no '$heading' section in README"
		return
	fi
	missing=$(comm -13 <(echo "$have") <(echo "$want") | tr '\n' ' ')
	extra=$(comm -23 <(echo "$have") <(echo "$want") | tr '\n' ' ')
	if [ -z "$missing$extra" ]; then
		pass "$name ($(wc -l <<<"$want"))"
	else
		fail "$name" "${missing:+not in the reference: $missing}${extra:+ not in --help: $extra}"
	fi
}

test_keys
test_cmdline
test_flags mkinitramfs-flags "mkinitramfs flags" "$top/mkinitramfs"
test_flags sealroot-lint-flags "sealroot-lint flags" "$lint"
exit $failed
