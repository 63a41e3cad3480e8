#!/usr/bin/env bash
# Runs every test project and ends with one plain summary line: "N passed, N failed, N skipped".
# Fails when a test fails, when a test project of MiniVmm.sln is missing from the output or ran no
# test, and when a test hangs: after TEST_HANG_TIMEOUT (default 20m, generous because each Linux
# boot takes minutes on a software-KVM host) the test host is dumped and killed, so the run fails.
# Tests that need /dev/kvm are skipped, with the reason, where it cannot be opened (one loud line
# says how many); where it opens, a KVM skip is a failure. The guest images must exist (make test
# builds them first). Results, TRX files and hang dumps: $TEST_RESULTS (default artifacts/test-results).
# DOTNET names the dotnet to run (as in the Makefile; the tests of this script give it a stand-in).
set -uo pipefail
cd "$(dirname "$0")/.."
dotnet="${DOTNET:-dotnet}"

results="${TEST_RESULTS:-artifacts/test-results}"
rm -rf "$results" && mkdir -p "$results"
log="$results/console.log"
"$dotnet" test MiniVmm.sln -nologo --logger trx --results-directory "$results" \
	--blame-hang-timeout "${TEST_HANG_TIMEOUT:-20m}" --blame-hang-dump-type mini 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test prints one "Passed!|Failed!|Skipped!  - Failed: F, Passed: P, Skipped: S, Total: T, Duration: D - NAME.dll (net10.0)"
# line per project.
summary='^(Passed|Failed|Skipped)! +- Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+), Total: *([0-9]+),.* - ([^ ]+)\.dll'
passed=0 failed=0 skipped=0 problems=()
declare -A seen=()
while IFS= read -r line; do
	[[ $line =~ $summary ]] || continue
	((failed += BASH_REMATCH[2], passed += BASH_REMATCH[3], skipped += BASH_REMATCH[4]))
	seen[${BASH_REMATCH[6]}]=1
	((BASH_REMATCH[5] > 0)) || problems+=("${BASH_REMATCH[6]} ran no test")
done <"$log"
while IFS= read -r project; do
	[[ -n ${seen[$project]:-} ]] || problems+=("$project is missing from the output (did not build, crashed or hung?)")
done < <("$dotnet" sln MiniVmm.sln list | sed -nE 's#^tests/(.*/)?([^/]+\.Tests)\.csproj$#\2#p')

# Skip reasons live in the TRX files; every KVM skip's reason starts with "needs KVM:" (tests/Shared/KvmFactAttribute.cs).
kvm_skipped=$(cat "$results"/*.trx 2>/dev/null | grep -c '<Message>needs KVM:')
kvm="${MINIVMM_KVM:-/dev/kvm}"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if ((kvm_skipped > 0)); then
	if [[ -c $kvm && -r $kvm && -w $kvm ]]; then
		problems+=("$kvm_skipped tests skipped for KVM although $kvm is here and read-writable")
	else
		echo "*** ${kvm_skipped} tests skipped: /dev/kvm absent on this host ***"
	fi
fi
if ((${#problems[@]})); then
	printf 'tests/run.sh: %s\n' "${problems[@]}" >&2
	exit 1
fi
if ((status == 0 && passed == 0)); then
	echo "tests/run.sh: no test ran" >&2
	exit 1
fi
exit "$status"
