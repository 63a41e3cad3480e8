#!/usr/bin/env bash
# Runs every test project and ends with one plain summary line: "N passed, N failed, N skipped".
# /dev/kvm and the guest images are required (make test builds the images first).
set -uo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test MiniVmm.sln -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per project.
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed:' "$log" |
	sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' |
	awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if ((status == 0 && passed == 0)); then
	echo "tests/run.sh: no test ran" >&2
	exit 1
fi
exit "$status"
