#!/bin/sh
# run.sh OUT SECONDS [TARGET...] — the C fuzzers: each target (elf: the tender's ELF and
# NABLA-note checks; tar: the libOS's rootfs reader, its index or its headers, and path lookups) is built with clang's
# libFuzzer, ASan and UBSan over the real parser files, then fuzzed for SECONDS from its seed
# corpus (corpus/TARGET, which also keeps every input that once crashed: they run first).
# A second build with clang's source coverage replays the corpus the run ended with and
# reports the parser files' line coverage.
# Runs in the image test/fuzz/c/Dockerfile makes (clang, libFuzzer, llvm); writes only in OUT
# (the source may be read-only). One line per target: "ok NAME: ..." with executions,
# executions/s, libFuzzer's cov/ft and the line coverage, or "FAIL NAME: why" with the
# sanitizer's summary and the saved input; the last line is "N passed, N failed".
set -u
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || exit 2
SECONDS_EACH=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../../native" && pwd)
TARGETS=${*:-elf tar}
CC=${FUZZ_CC:-clang}
PROFDATA=$(command -v llvm-profdata || ls /usr/lib/llvm-*/bin/llvm-profdata | tail -1)
COV=$(command -v llvm-cov || ls /usr/lib/llvm-*/bin/llvm-cov | tail -1)
echo "# compiler: $($CC --version | head -1)"
passed=0
failed=0
fail() { # fail NAME WHY
    echo "FAIL $1: $2"
    failed=$((failed + 1))
}

# The parser files each target compiles, unchanged (elf.c's file access goes to the harness:
# see elf_fuzz.c), with the flags each needs.
sources() { # sources TARGET -> "FILE:FLAGS" lines
    case $1 in
    elf)
        echo "$SRC/tender/elf.c:-Dopen=fuzz_open -Dclose=fuzz_close -Dmmap=fuzz_mmap -Dmunmap=fuzz_munmap"
        echo "$SRC/tender/boot.c:"
        echo "$SRC/tender/exeroot.c:"
        echo "$SRC/tender/warm.c:"
        ;;
    tar)
        echo "$SRC/libos/tar.c:-D_GNU_SOURCE"
        echo "$SRC/libos/vfs.c:-D_GNU_SOURCE"
        ;;
    esac
}
# The files whose line coverage is reported.
covered() {
    case $1 in
    elf) echo "$SRC/tender/elf.c" ;;
    tar) echo "$SRC/libos/tar.c $SRC/libos/vfs.c" ;;
    esac
}

build() { # build TARGET KIND FLAGS... -> $OUT/TARGET/KIND/fuzz
    t=$1 kind=$2
    shift 2
    d=$OUT/$t/$kind
    mkdir -p "$d"
    inc="-I$SRC/include -I$SRC/tender -I$SRC/libos"
    objs=
    for line in $(sources "$t" | tr ' ' '@'); do
        file=${line%%:*}
        extra=$(echo "${line#*:}" | tr '@' ' ')
        o=$d/$(basename "$file" .c).o
        # shellcheck disable=SC2086
        $CC -std=gnu11 -g -Wall -Wextra -Werror $inc $extra "$@" -c -o "$o" "$file" >>"$d/build.log" 2>&1 || return 1
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    $CC -std=gnu11 -g -Wall -Wextra -Werror $inc "$@" -o "$d/fuzz" "$HERE/${t}_fuzz.c" $objs >>"$d/build.log" 2>&1
}

for t in $TARGETS; do
    [ -f "$HERE/${t}_fuzz.c" ] || { fail "$t" "no such target"; continue; }
    san="-O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    # shellcheck disable=SC2086
    build "$t" asan $san || { fail "$t" "build: $(tr '\n' '|' <"$OUT/$t/asan/build.log" | head -c 600)"; continue; }
    # shellcheck disable=SC2086
    build "$t" cov -O0 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping ||
        { fail "$t" "coverage build: $(tr '\n' '|' <"$OUT/$t/cov/build.log" | head -c 600)"; continue; }
    corpus=$OUT/$t/corpus
    mkdir -p "$corpus" "$OUT/$t/crashes"
    log=$OUT/$t/fuzz.log
    # Seeds go in first (read-only in the source), new inputs into corpus/.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
        "$OUT/$t/asan/fuzz" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$OUT/$t/crashes/" "$corpus" "$HERE/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        why=$(grep -m1 -E '^SUMMARY:|^==[0-9]+==ERROR|^[a-z_]+_fuzz: |runtime error' "$log")
        saved=$(sed -n 's/.*Test unit written to //p' "$log" | head -1)
        fail "$t" "exit $rc after ${execs:-?} executions: ${why:-see $log} (input: ${saved:-none})"
        continue
    fi
    # Line coverage of the parser files over the corpus the run ended with, seeds included.
    LLVM_PROFILE_FILE=$OUT/$t/cov/%p.profraw "$OUT/$t/cov/fuzz" -runs=0 "$corpus" "$HERE/corpus/$t" >"$OUT/$t/cov/replay.log" 2>&1
    lines=-
    # shellcheck disable=SC2046
    if "$PROFDATA" merge -sparse -o "$OUT/$t/cov/all.profdata" "$OUT/$t/cov/"*.profraw 2>>"$OUT/$t/cov/replay.log" &&
        "$COV" report "$OUT/$t/cov/fuzz" -instr-profile="$OUT/$t/cov/all.profdata" $(covered "$t") >"$OUT/$t/cov/report.txt" 2>&1; then
        # Per file: "name regions missed cover functions missed executed lines missed cover ...".
        lines=$(awk '$1 ~ /\.c$/ || $1 == "TOTAL" { n = split($1, p, "/"); printf "%s%s %s", sep, p[n], $10; sep = ", " }' "$OUT/$t/cov/report.txt")
    fi
    echo "ok $t: $execs executions in ${SECONDS_EACH}s ($rate/s), $cov, corpus $(ls "$corpus" | wc -l) new + $(ls "$HERE/corpus/$t" | wc -l) seeds, lines covered: $lines"
    passed=$((passed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
