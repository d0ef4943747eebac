#!/usr/bin/env bash
# tests/vm/run's serial handling (raw log, --type, --kill-on, usage) with a
# stand-in QEMU, no VM: tests/vm/selftest --run-only prints
# "PASS name" / "FAIL name: why" and exits 1 on any FAIL.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/tests/vm/selftest" --run-only
