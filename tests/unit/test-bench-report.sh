#!/usr/bin/env bash
# The bench report's statistics (intervals of medians, bootstrap and
# Hodges-Lehmann intervals of ratios, the verity table parser) on synthetic
# data with known answers: tests/bench/report --selftest prints
# "PASS name" / "FAIL name: why" and exits 1 on any FAIL.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v python3 >/dev/null; then
	echo "FAIL bench-report: python3 missing (run deps/setup)"
	exit 1
fi
exec python3 "$top/tests/bench/report" --selftest
