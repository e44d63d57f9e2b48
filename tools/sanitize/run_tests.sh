#!/usr/bin/env bash
# Runs the xctest bundle built with a sanitizer: tools/sanitize/run_tests.sh address|thread
# SCRATCH [Target.Class ...]. The CLI tests run the sanitized `adascale` beside the bundle, so
# its reports count too. Suppressions (tools/sanitize/*.supp) hold only reports from outside
# our code, each with its reason. Prints a summary; exit status is the test run's, or 1 when a
# sanitizer report was printed.
set -uo pipefail
kind=$1 scratch=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle="$scratch/debug/adascalePackageTests.xctest"
log="$scratch/test-$kind.log"
[ -x "$bundle" ] || { echo "error: $bundle not built"; exit 1; }
case $kind in
  address)
    # handle_segv=0: a segmentation fault stays a signal. The HDF5 C library segfaults on some
    # damaged files (docs/testing.md); adascale decodes those in a child process and reports a
    # child killed by a signal. With ASan's handler the child instead printed a report and
    # exited 1, the parent took that for a clean error, decoded the file itself and crashed too
    # (MutatedFileRegressionTests failed on all three HDF5 records). Memory errors in
    # instrumented code are still caught by ASan's checks, not by the signal.
    export ASAN_OPTIONS="detect_leaks=1:handle_segv=0:halt_on_error=1:print_summary=1:${ASAN_OPTIONS:-}"
    export LSAN_OPTIONS="suppressions=$root/tools/sanitize/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
    pattern='ERROR: AddressSanitizer|ERROR: LeakSanitizer'
    ;;
  thread)
    export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:suppressions=$root/tools/sanitize/tsan.supp:${TSAN_OPTIONS:-}"
    pattern='WARNING: ThreadSanitizer'
    ;;
  *) echo "usage: $0 address|thread SCRATCH [Target.Class ...]"; exit 2 ;;
esac
# The tests find the CLI and the fixtures relative to the working directory and the bundle.
cd "$root"
status=0
if [ $# -eq 0 ]; then
  nice -n 19 "$bundle" 2>&1 | tee "$log" || status=$?
else
  : > "$log"
  for t in "$@"; do nice -n 19 "$bundle" "$t" 2>&1 | tee -a "$log" || status=$?; done
fi
reports=$(grep -cE "$pattern" "$log")
echo "sanitizer ($kind): $reports report(s); test run exit $status; log $log"
grep -E "Executed [0-9]+ tests" "$log" | tail -n 1
[ "$reports" -eq 0 ] || status=1
exit $status
