#!/usr/bin/env bash
# Runs Strom's tests and prints one closing line "N passed, N failed" ("N skipped" too when
# integration tests could not run here, each listed with its reason).
#   t/run_tests.sh unit     GoogleTest unit binaries + fuzz corpus replay
#   t/run_tests.sh all      the above + integration tests (real server, real clients)
# Environment: O (build dir, default objs), TEST_FILTER (substring of test files to run).
set -u
cd "$(dirname "$0")/.."
O=${O:-objs}
mode=${1:-all}
passed=0
failed=0
skipped=0   # integration tests that could not run here (they say why)
failures=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for bin in "$O"/asan/t/*_test; do
    [ -x "$bin" ] || continue
    case "$bin" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
    out=$("$bin" --gtest_brief=1 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$out" | tail -n 60
        failures+=("$(basename "$bin")")
    fi
    echo "unit $(basename "$bin"): $p passed, $f failed"
done

for bin in "$O"/asan/fuzz/*_replay; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin" _replay)
    case "$name" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
    if out=$("$bin" "t/fuzz/corpus/$name" 2>&1); then
        passed=$((passed + 1))
        echo "fuzz-replay $name: $(printf '%s\n' "$out" | tail -1)"
    else
        failed=$((failed + 1))
        failures+=("fuzz-replay $name")
        printf '%s\n' "$out" | tail -n 40
    fi
done

if [ "$mode" = all ]; then
    for py in t/integration/test_*.py; do
        [ -f "$py" ] || continue
        case "$py" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
        out=$(STROM_OBJS="$O" PYTHONPATH=t/integration python3 -W ignore::ResourceWarning -m unittest -v "$py" 2>&1)
        rc=$?
        # unittest's summary: "Ran N tests", then "OK" or "FAILED", with
        # (failures=F, errors=E, skipped=S) as they apply
        n=$(printf '%s\n' "$out" | sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' | tail -n 1)
        sum=$(printf '%s\n' "$out" | grep -E '^(OK|FAILED)' | tail -n 1)
        count() { printf '%s' "$sum" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
        fl=$(count failures); er=$(count errors); sk=$(count skipped)
        f=$(( ${fl:-0} + ${er:-0} ))
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
        p=$(( ${n:-0} - ${fl:-0} - ${er:-0} - ${sk:-0} ))
        [ "$p" -ge 0 ] || p=0
        passed=$((passed + p)); failed=$((failed + f))
        if [ $rc -ne 0 ]; then
            printf '%s\n' "$out" | tail -n 80
            failures+=("$py")
        fi
        skipped=$((skipped + ${sk:-0}))
        if [ "${sk:-0}" != 0 ]; then
            printf '%s\n' "$out" | grep -E '\.\.\. skipped' | sed 's/^/  /'
            echo "integration $(basename "$py"): $p passed, ${sk} skipped, $f failed"
        else
            echo "integration $(basename "$py"): $p passed, $f failed"
        fi
    done
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $skipped skipped, $failed failed"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
