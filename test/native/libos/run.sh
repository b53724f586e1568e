#!/bin/sh
# run.sh OUT [CASE...] — the libOS's native unit tests ($LIBOS_TEST_FS_BASE=cpu|host-call: the
# FS-base mode to boot it in; default: the one the tender gives this host; $LIBOS_TEST_HEAP=
# paged|flat: the heap's mode, default paged). Builds the real libOS objects with
# native/libos/Makefile (all of native/libos/*.c but hypercall.c, switch.S, and lwIP with
# its port as lwip.o) into OUT/obj, checks that its files call one another one way,
# links them with the harness and fake_hypercall.c into OUT/libos-test, makes the tar
# fixtures with GNU tar (and their indexes with mkindex.c) in OUT/fixtures, and runs the cases (all, or those named).
# Writes nothing outside OUT (the source may be read-only). One line per case: "ok NAME" or
# "FAIL NAME: why"; the last line is "N passed, N failed"; exits non-zero if a case failed.
# Needs: sh, make, GNU tar, nm, tsort, and musl-gcc (Debian musl-tools) or gcc: $LIBOS_TEST_CC.
# The harness includes libos.h: the cases call only libos_init, libos_syscall and libos_clone.
set -u
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || exit 2
shift
HERE=$(cd "$(dirname "$0")" && pwd)
# $LIBOS_TEST_NATIVE: another native/ folder to test (e.g. a patched copy); default: this repo's.
SRC=$(cd "${LIBOS_TEST_NATIVE:-$HERE/../../../native}" && pwd) || exit 2
# musl-gcc by default: the libOS is built with libOS-musl's musl-gcc in production, so
# Debian's musl-gcc (same musl) gives it the same headers; and a static musl harness has
# no dynamic loader or glibc pointer guard reading %fs while a test moves the FS base.
if [ -n "${LIBOS_TEST_CC:-}" ]; then CC=$LIBOS_TEST_CC
elif command -v musl-gcc >/dev/null 2>&1; then CC=musl-gcc
else CC=gcc
fi
echo "# harness compiler: $CC ($($CC -dumpversion 2>/dev/null))"

build_fail() {
    echo "FAIL build: $1"
    echo "0 passed, 1 failed"
    exit 1
}

# 1. The libOS, unchanged, with its own Makefile's flags; hypercall.c and start.S stay out.
mkdir -p "$OUT/obj"
objs=
for c in "$SRC"/libos/*.c; do
    b=$(basename "$c" .c)
    [ "$b" = hypercall ] || objs="$objs $OUT/obj/$b.o"
done
objs="$objs $OUT/obj/switch.o $OUT/obj/lwip.o"
# The Makefile names its objects one by one: a file the suite tests must be in the libOS built.
for c in "$SRC"/libos/*.c; do
    grep -q "^OBJS = .* $(basename "$c" .c)\.o[ )]" "$SRC/libos/Makefile" ||
        build_fail "native/libos/Makefile: OBJS does not name $(basename "$c" .c).o, so the libOS built for images lacks it"
done
# lwIP's source (the toolchain image keeps Debian's at /opt/nabla/lwip): $LWIP to use another.
# shellcheck disable=SC2086
make -s -C "$SRC/libos" CC="$CC" OUT="$OUT/obj" ${LWIP:+LWIP="$LWIP"} $objs >"$OUT/build.log" 2>&1 ||
    build_fail "make -C native/libos: $(tr '\n' '|' <"$OUT/build.log" | head -c 600)"

# 1b. Its files call one another one way (fs.c in no loop with the kinds of file it serves):
#     an edge for each symbol one object uses and another defines, and tsort finds any
#     loop. The scheduler and its signals (sched.c, signal.c, switch.S) count as one part.
#     The edges go to OUT/callgraph.txt.
# shellcheck disable=SC2086
for o in $objs; do
    nm -g "$o" | awk -v f="$(basename "$o" .o)" '$1 == "U" { print "use", f, $2 } $2 ~ /^[TDBRC]$/ { print "def", f, $3 }'
done | awk '
    { if ($2 == "signal" || $2 == "switch") $2 = "sched" }
    $1 == "def" { def[$3] = $2 }
    $1 == "use" { n++; from[n] = $2; sym[n] = $3 }
    END { for (i = 1; i <= n; i++) if ((sym[i] in def) && def[sym[i]] != from[i]) print from[i], def[sym[i]] }
' | sort -u >"$OUT/callgraph.txt"
[ -s "$OUT/callgraph.txt" ] || build_fail "call graph: nm found no calls between the objects"
tsort "$OUT/callgraph.txt" >/dev/null 2>"$OUT/build.log" ||
    build_fail "the libOS's files call one another in a loop: $(awk 'NR > 1 && /loop/ { exit } NR > 1 { printf "%s%s", sep, $2; sep = " " }' "$OUT/build.log")"
echo "# call graph: $(wc -l <"$OUT/callgraph.txt") edges between libOS files, one way"

# 2. The harness (the test files in run order) over them.
tests="test_tar.c test_vfs.c test_fd.c test_mem.c test_sched.c test_pipe.c test_epoll.c test_random.c test_misc.c test_self.c test_signal.c test_net.c test_unix.c test_unix_names.c test_fsops.c test_fastcall.c"
hflags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -fno-stack-protector -fno-pie -no-pie -static -D_GNU_SOURCE
  -I$SRC/include -I$SRC/libos -I$HERE"
srcs="$HERE/harness.c $HERE/fake_hypercall.c"
for t in $tests; do srcs="$srcs $HERE/$t"; done
# shellcheck disable=SC2086
$CC $hflags -o "$OUT/libos-test" $srcs $objs >"$OUT/build.log" 2>&1 ||
    build_fail "harness: $(tr '\n' '|' <"$OUT/build.log" | head -c 600)"

# 3. Fixtures: one tree, tarred by GNU tar in pax, ustar and gnu formats, a tar whose
#    later entries replace earlier ones, and one with a hard link; each also with an index.
#    Modes are fixed (umask 022), whatever umask we were called with: the cases check them.
F=$OUT/fixtures
T=$F/tree
caller_umask=$(umask)
umask 022
rm -rf "$F" && mkdir -p "$T/dir/sub" "$T/empty-dir" || exit 2
(
    set -e
    cd "$T"
    printf 'hello, nabla\n' >hello.txt
    chmod 0640 hello.txt
    printf 'in dir\n' >dir/file.txt
    printf 'deep\n' >dir/sub/deep.txt
    chmod 0750 dir
    : >empty.txt
    # 64004 bytes: lines of 32, then a tail, so the size is no multiple of 512.
    seq -w 1 2000 | sed 's/$/ abcdefghijklmnopqrstuvwxyz/' >big.txt
    printf 'end\n' >>big.txt
    ln -s hello.txt link-to-file
    ln -s dir link-to-dir
    ln -s ../hello.txt dir/up
    ln -s /dir/file.txt abs-link
    ln -s link-to-file chain
    ln -s nowhere dangling
    ln -s loop-b loop-a
    ln -s loop-a loop-b
    ln -s self self
    # One name of 150 characters (pax "path", GNU 'L'), and a link whose target is longer
    # than 100 (pax "linkpath", GNU 'K').
    long=a-file-name-longer-than-one-hundred-characters
    while [ ${#long} -lt 146 ]; do long="$long-x"; done
    printf 'long name\n' >"$long.txt"
    ltd=a-directory-name-that-makes-a-link-target-longer-than-one-hundred-characters
    while [ ${#ltd} -lt 110 ]; do ltd="$ltd-y"; done
    mkdir "$ltd"
    printf 'long target\n' >"$ltd/t.txt"
    ln -s "$ltd/t.txt" long-link
    # A path of 130 characters in short parts: ustar splits it into prefix and name.
    p=deep/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccc
    mkdir -p "$p"
    printf 'prefixed\n' >"$p/a-leaf-file-name.txt"
) || build_fail "fixture tree"
common="--sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000"
# shellcheck disable=SC2086
tar $common --format=pax -C "$T" -cf "$F/pax.tar" . || build_fail "tar --format=pax"
# shellcheck disable=SC2086
(cd "$T" && tar $common --format=gnu -cf "$F/gnu.tar" *) || build_fail "tar --format=gnu"
# shellcheck disable=SC2086
tar $common --format=ustar --exclude='./a-file-name-*' --exclude='./a-directory-name-*' --exclude=./long-link \
    -C "$T" -cf "$F/ustar.tar" . || build_fail "tar --format=ustar"
(
    set -e
    mkdir -p "$F/r1/was-dir" "$F/r1/implicit/deeper" "$F/r2/becomes-dir"
    printf 'first version, longer than the second\n' >"$F/r1/same.txt"
    printf 'second\n' >"$F/r2/same.txt"
    printf 'a file first\n' >"$F/r1/becomes-dir"
    printf 'inner\n' >"$F/r2/becomes-dir/inner.txt"
    printf 'child\n' >"$F/r1/was-dir/child.txt"
    printf 'a file now\n' >"$F/r2/was-dir"
    printf 'c\n' >"$F/r1/implicit/deeper/c.txt"
    # Only the file: no entries for implicit/ or implicit/deeper/.
    # shellcheck disable=SC2086
    tar $common --format=pax -C "$F/r1" -cf "$F/replace.tar" same.txt becomes-dir was-dir implicit/deeper/c.txt
    # shellcheck disable=SC2086
    tar $common --format=pax -C "$F/r2" -rf "$F/replace.tar" same.txt becomes-dir was-dir
) || build_fail "replace.tar"
(
    set -e
    mkdir -p "$F/h/sub"
    printf 'hard linked' >"$F/h/first.txt"
    ln "$F/h/first.txt" "$F/h/sub/second.txt"
    # shellcheck disable=SC2086
    tar $common --format=pax -C "$F/h" -cf "$F/hardlink.tar" .
) || build_fail "hardlink.tar"
# Entries whose names have a ".." part (GNU tar keeps names as given with -P): skipped.
(
    mkdir -p "$F/d" && printf 'kept\n' >"$F/d/kept.txt" && for x in x1 x2 x3; do echo "$x" >"$F/d/$x"; done &&
    tar $common --format=ustar -P --transform='s,^x1$,a/../b.txt,;s,^x2$,../up.txt,;s,^x3$,c/..,' \
        -C "$F/d" -cf "$F/dotdot.tar" kept.txt x1 x2 x3
) || build_fail "dotdot.tar"
# An extended (pax) header whose size runs far past the image's end (test/fuzz/c tar): one
# header block named "x" of type 'x' claiming 0o77777777777 bytes, and one zero block.
(
    set -e
    head -c 1024 /dev/zero >"$F/pax-past-end.tar"
    printf 'x' | dd of="$F/pax-past-end.tar" bs=1 seek=0 conv=notrunc 2>/dev/null
    printf '77777777777' | dd of="$F/pax-past-end.tar" bs=1 seek=124 conv=notrunc 2>/dev/null
    printf 'x' | dd of="$F/pax-past-end.tar" bs=1 seek=156 conv=notrunc 2>/dev/null
) || build_fail "pax-past-end.tar"

# The same tars with an index in front, as nabla-build writes rootfs.tar (mkindex.c), and
# the pax one with its index broken in each way the libOS must refuse.
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -o "$OUT/mkindex" "$HERE/mkindex.c" >"$OUT/build.log" 2>&1 ||
    build_fail "mkindex: $(tr '\n' '|' <"$OUT/build.log" | head -c 600)"
for t in pax gnu ustar replace hardlink dotdot; do
    "$OUT/mkindex" "$F/$t.tar" "$F/$t-index.tar" || build_fail "mkindex $t.tar"
done
for how in magic version index-past-end count trailing name-too-long name-past-end file-past-end data-past-end data-wraps; do
    "$OUT/mkindex" --break="$how" "$F/pax.tar" "$F/broken-index-$how.tar" || build_fail "mkindex --break=$how"
done
: >"$F/zero.tar"
# One written by nabla-build itself (src/rootfs/disk.ts, kept as a fuzzing seed).
cp "$HERE/../../fuzz/c/corpus/tar/nabla-build-index.tar" "$F/" || build_fail "nabla-build-index.tar"

# The tars hold the modes now. A caller with umask 0 (a container writing for the host
# user) gets a tree it can remove.
[ "$caller_umask" = 0000 ] && chmod -R a+rwX "$F"
umask "$caller_umask"

# 4. Run.
exec "$OUT/libos-test" ${LIBOS_TEST_FS_BASE:+"--fs-base=$LIBOS_TEST_FS_BASE"} ${LIBOS_TEST_HEAP:+"--heap=$LIBOS_TEST_HEAP"} "$F" "$@"
