#!/bin/sh
# run.sh OUT TENDER... — builds the test guests into OUT and runs every case against each
# tender binary. One line per case: "ok   TAG CASE", "FAIL TAG CASE: why" or
# "skip TAG CASE: why" (TAG = the tender's file name); the last line is "N passed, N failed".
# Exits non-zero when a case failed. Needs: sh, gcc (or $GUEST_CC), binutils, /proc;
# strace is optional. Called by `make -C native/tender test OUT=DIR`.
set -u
START=$(pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || exit 2
shift
HERE=$(cd "$(dirname "$0")" && pwd)
INC=$HERE/../../../native/include
G=$OUT/guests
W=$OUT/work # the cwd of every case
LOG=$OUT/log
CC=${GUEST_CC:-gcc}
passed=0
failed=0
mkdir -p "$G" "$W" "$LOG"

# Guests: freestanding, static, non-PIE, our own entry and note (start.S).
gflags="-static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 -Wall -Wextra -Werror
  -fno-asynchronous-unwind-tables -Wl,-e,_nabla_start -I$INC -I$HERE"
guest() { # guest NAME SOURCE [FLAGS...]
    name=$1 src=$2
    shift 2
    # shellcheck disable=SC2086
    $CC $gflags "$@" -o "$G/$name" "$HERE/start.S" "$HERE/$src.c" || { echo "FAIL build $name"; exit 1; }
}
for g in hello exit3 bootinfo sleep escape fault window heap; do guest $g $g; done
guest nofault fault -DFAULT_NO_HANDLER
guest trap trap -DGUEST_TRAP
guest nonote hello -DGUEST_NO_NOTE
guest abi1 hello -DGUEST_ABI=1
guest twonotes hello -DGUEST_TWO_NOTES
guest libos2m hello -Wl,-Ttext-segment=0x200000 # a stand-in libOS where --libos wants one
guest high hello -Wl,-Ttext-segment=0x40000000 # 1 GiB: beyond the default 256 MiB
guest low hello -Wl,-Ttext-segment=0x10000     # below guest memory
guest wx hello -Wl,-N -Wl,--no-warn-rwx-segments # one RWX segment
guest pie hello -fpie -static-pie -DGUEST_NO_NOTE  # ET_DYN (refused before the note is read)
guest bootinfo2m bootinfo -Wl,-Ttext-segment=0x200000 # a stand-in libOS that tells what it got
guest pienote hello -fpie -static-pie -Wl,-z,notext # ET_DYN with a NABLA note: no loader
guest handover handover -Wl,-Ttext-segment=0x200000 # a stand-in libOS that starts the program beside it
guest pieapp pieapp -fpie -static-pie -DGUEST_NO_NOTE # a static-pie that checks where it was put
# A program that asks for a dynamic loader (PT_INTERP) and a loader that asks for one too:
# linked against libc.so (nothing used), so the linker writes PT_INTERP.
dyn="-nostdlib -ffreestanding -fno-stack-protector -O2 -fno-asynchronous-unwind-tables -Wl,-e,_nabla_start
  -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2 -Wl,--no-as-needed -lc -DGUEST_NO_NOTE -I$INC -I$HERE"
# shellcheck disable=SC2086
$CC $dyn -fno-pie -no-pie -o "$G/dyn" "$HERE/start.S" "$HERE/hello.c" &&
    $CC $dyn -fpie -pie -o "$G/dynpie" "$HERE/start.S" "$HERE/hello.c" || { echo "FAIL build dyn"; exit 1; }
echo 'just text' >"$G/notelf"
cp "$G/hello" "$G/arm64" && printf '\267\000' | dd of="$G/arm64" bs=1 seek=18 conv=notrunc 2>/dev/null # e_machine
head -c 1000 "$G/hello" >"$G/trunc" # headers whole, the text segment cut off
# The PT_NOTE's p_offset far past the file's end (test/fuzz/c found elf.c pointing there
# before it checked the offset): headers at e_phoff 64, p_offset at +8 in a 56-byte entry.
cp "$G/hello" "$G/notefar"
i=0
while [ $i -lt "$(od -An -tu2 -j56 -N2 "$G/hello" | tr -d ' ')" ]; do
    [ "$(od -An -tu4 -j$((64 + i * 56)) -N4 "$G/hello" | tr -d ' ')" = 4 ] &&
        printf '\000\000\000\000\000\000\000\200' | dd of="$G/notefar" bs=1 seek=$((64 + i * 56 + 8)) conv=notrunc 2>/dev/null
    i=$((i + 1))
done
$CC -O2 -Wall -Werror -o "$G/probe" "$HERE/probe.c" || { echo "FAIL build probe"; exit 1; }
$CC -O2 -Wall -Werror -o "$G/pagecache" "$HERE/pagecache.c" || { echo "FAIL build pagecache"; exit 1; }
# Hostile PIEs, made from the static-pie guest: segments that overlap, lie near the top of the
# address space, wrap around it, are huge, or are not there at all.
$CC -O2 -Wall -Werror -o "$G/elfpatch" "$HERE/elfpatch.c" || { echo "FAIL build elfpatch"; exit 1; }
"$G/elfpatch" "$G/pie" "$G/pie-overlap" 1 vaddr 0 &&
    "$G/elfpatch" "$G/pie" "$G/pie-top" 1 vaddr 0xfffffffffffff000 &&
    "$G/elfpatch" "$G/pie" "$G/pie-wrap" 1 memsz 0xffffffffffff0000 &&
    "$G/elfpatch" "$G/pie" "$G/pie-huge" 1 memsz 0x10000000000 &&
    "$G/elfpatch" "$G/pie" "$G/pie-beyond-mem" 3 memsz 0xf00000000 &&
    "$G/elfpatch" "$G/pie" "$G/pie-no-load" all type 0 || { echo "FAIL build hostile PIEs"; exit 1; }
has_fsgsbase=0
"$G/probe" fsgsbase && has_fsgsbase=1
echo "# host: FSGSBASE $([ $has_fsgsbase = 1 ] && echo yes || echo no), 32-bit syscall entry $("$G/probe" int80 2>/dev/null && echo yes || echo no)"
printf 'nabla disk line 1\nline 2\n' >"$W/disk.txt"
: >"$W/empty-disk"
# A container's /etc as Docker writes it (--etc-from), one too large, one with a folder.
mkdir -p "$W/etc" "$W/etc-big" "$W/etc-dir/hosts" "$W/etc-none"
printf 'web-1\n' >"$W/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n  fe00::0 ip6-localnet\n# a comment: kept\n172.18.0.5\tweb-1' >"$W/etc/hosts"
printf 'nameserver 10.0.0.53\noptions ndots:0\n' >"$W/etc/resolv.conf"
printf 'nameserver 10.0.0.53\n' >"$W/etc-dir/resolv.conf"
head -c 262145 /dev/zero | tr '\0' '#' >"$W/etc-big/hosts" # 256 KiB and one byte
printf 'nameserver 10.0.0.53\n' >"$W/etc-big/resolv.conf"
# Odd ones: hosts a symlink loop (open fails: said, left out), resolv.conf a dangling
# symlink (as if missing), hostname a plain file.
mkdir -p "$W/etc-odd" && printf 'odd\n' >"$W/etc-odd/hostname" && ln -sf hosts "$W/etc-odd/hosts" &&
    ln -sf nowhere "$W/etc-odd/resolv.conf"
mkdir -p "$W/adir"
rm -f "$W/secret" && printf x >"$W/secret" && chmod 000 "$W/secret"
cd "$W" || exit 2

result() { # result NAME OK DETAIL
    if [ "$2" = 1 ]; then
        echo "ok   $tag $1${3:+: $3}"
        passed=$((passed + 1))
    else
        echo "FAIL $tag $1: $3"
        failed=$((failed + 1))
    fi
}

# case_ NAME STATUS EXPECT CMD...: runs CMD (stdout+stderr to LOG/TAG.NAME), wants exit
# STATUS and every line of EXPECT in the output (a line starting with ! must be absent).
# $note, if set, is the ok line's detail (it is cleared after).
case_() {
    name=$1 want=$2 expect=$3
    shift 3
    out=$LOG/$tag.$name
    "$@" >"$out" 2>&1
    got=$?
    why=
    [ "$got" = "$want" ] || why="exit $got, want $want"
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        case $line in
        !*) ! grep -qF -- "${line#!}" "$out" || why="${why:+$why; }has '${line#!}'" ;;
        *) grep -qF -- "$line" "$out" || why="${why:+$why; }no '$line'" ;;
        esac
    done <<EOF
$expect
EOF
    if [ -z "$why" ]; then result "$name" 1 "${note:-}"; else result "$name" 0 "$why; output: $(head -c 300 "$out" | tr '\n' '|')"; fi
    note=
}

# until_sleeping LOG: waits (2 s at most) for the sleep guest to say it sleeps in LOG.
until_sleeping() {
    i=0
    while [ $i -lt 40 ] && ! grep -q '^sleeping' "$1" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
}

# status_case NAME WX [FLAGS...]: a guest sleeping in ppoll, seen from outside: the filter
# is on, only the console fds are open though the shell gave it fds 5 and 7 (the disk is
# one read-only shared mapping, its fd closed), the boot page is read-only, WX (0 or "some")
# pages are writable and executable, and the tender's own stack may grow by at most 256 KiB
# (RLIMIT_STACK). The tender is not dumpable: reading its maps needs CAP_SYS_PTRACE.
status_case() {
    name=$1 want_wx=$2
    shift 2
    "$T" "$@" --disk="$W/disk.txt" "$G/sleep" 3000 >"$LOG/$tag.$name" 2>&1 5</dev/null 7>"$LOG/$tag.fd7" &
    pid=$!
    # Docker's own profile may already show Seccomp: 2; the guest's line says ours is on.
    until_sleeping "$LOG/$tag.$name"
    st=$(grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" 2>&1 | tr -s '\t\n' '  ')
    fds=$(ls "/proc/$pid/fd" 2>&1 | sort -n | tr '\n' ' ')
    wx=$(grep -c 'rwxp' "/proc/$pid/maps")
    boot=$(grep '^00100000-00101000 ' "/proc/$pid/maps" | cut -d' ' -f2)
    # The tender's own stack may grow by at most 256 KiB (memcap.c: stack_cap).
    stk=$(awk '/^VmStk:/ { print $2 * 1024 }' "/proc/$pid/status")
    stack_limit=$(awk '/^Max stack size/ { print $4 }' "/proc/$pid/limits")
    disk=$(grep " $W/disk.txt\$" "/proc/$pid/maps" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')
    wait $pid
    rc=$?
    ok=0
    case "$st" in *"Seccomp: 2"*"NoNewPrivs: 1"* | *"NoNewPrivs: 1"*"Seccomp: 2"*) ok=1 ;; esac
    [ "$want_wx" = 0 ] && [ "$wx" != 0 ] && ok=0
    [ "$want_wx" = some ] && [ "$wx" = 0 ] && ok=0
    [ "$fds" = "1 2 " ] && [ "$boot" = "r--p" ] && [ "$disk" = "r--s" ] && [ $rc = 0 ] || ok=0
    [ -n "$stk" ] && [ -n "$stack_limit" ] && [ "$stack_limit" -le $((stk + 262144)) ] || ok=0
    result "$name" $ok "${st}fds: ${fds}W+X mappings: $wx, boot page $boot, disk $disk, tender stack $stk of at most $stack_limit bytes, exit $rc"
}

# The disk and the program read into the page cache before the filter (warm.c): both
# evicted first, then counted while the guest sleeps (it reads neither).
page_cache_case() {
    head -c 1048576 /dev/urandom >"$W/cold-disk" && cp "$G/sleep" "$W/cold-sleep" &&
        "$G/pagecache" evict "$W/cold-disk" "$W/cold-sleep" || { result page-cache-warm 0 "could not evict"; return; }
    before=$("$G/pagecache" count "$W/cold-disk" "$W/cold-sleep" | tr '\n' ' ')
    "$T" --disk="$W/cold-disk" "$W/cold-sleep" 3000 >"$LOG/$tag.page-cache-warm" 2>&1 &
    pid=$!
    until_sleeping "$LOG/$tag.page-cache-warm"
    after=$("$G/pagecache" count "$W/cold-disk" "$W/cold-sleep" | tr '\n' ' ')
    wait $pid
    pages_disk=256 pages_exe=$("$G/pagecache" count "$W/cold-sleep" | cut -d/ -f2)
    ok=0
    [ "$after" = "$pages_disk/$pages_disk $pages_exe/$pages_exe " ] && [ "$before" != "$after" ] && ok=1
    result page-cache-warm $ok "cached pages of the disk and the program: before $before, while the guest runs $after"
}

# strace: after the seccomp() call, only whitelisted syscalls.
strace_case() {
    if ! command -v strace >/dev/null 2>&1; then
        echo "skip $tag strace-after-filter: strace is not installed"
        return
    fi
    strace -f -o "$LOG/$tag.strace" "$T" "$G/hello" >/dev/null 2>"$LOG/$tag.strace-err" ||
        { result strace-after-filter 0 "strace failed: $(head -c 300 "$LOG/$tag.strace-err" | tr '\n' '|')"; return; }
    after=$(awk '/seccomp\(SECCOMP_SET_MODE_FILTER/ { on = 1; next }
                 on && $2 ~ /^[a-z_0-9]+\(/ { sub(/\(.*/, "", $2); print $2 }' "$LOG/$tag.strace" | sort -u | tr '\n' ' ')
    allowed='write|exit_group|clock_gettime|ppoll|rt_sigreturn|'
    [ "$mode" = host-call ] && allowed="${allowed}arch_prctl|"
    bad=$(echo "$after" | tr ' ' '\n' | grep -vxE "$allowed" | tr '\n' ' ')
    ok=0
    grep -q 'seccomp(SECCOMP_SET_MODE_FILTER.* = 0' "$LOG/$tag.strace" && [ -n "$after" ] && [ -z "$bad" ] && ok=1
    result strace-after-filter $ok "after seccomp(): ${after}${bad:+(not allowed: $bad)}"
}

# Cases whose outcome may depend on how the libOS sets thread pointers (--fs-base, here
# through $NABLA_FS_BASE as `docker run -e` would give it): run once per mode the host has.
mode_cases() {
    # Guests that run.
    case_ hello 0 "Hello from a nabla guest!" "$T" "$G/hello"
    case_ exit3 3 "" "$T" "$G/exit3"
    case_ bootinfo 0 "cwd=$W
argc=3
argv: $G/bootinfo
argv: one
argv: two words
env: NABLA_TEST=xyz
disk_size=25 disk: nabla disk line 1
!FAIL" env NABLA_TEST=xyz "$T" --mem=64 --disk="$W/disk.txt" "$G/bootinfo" one 'two words'
    case_ bootinfo-mem8 0 "mem_size=8388608
argv: --x-exec-heap
!FAIL" "$T" --mem=8 -- "$G/bootinfo" -- --x-exec-heap
    case_ etc-from 0 "hostname=
etc: /etc/hostname 6 bytes
web-1
etc: /etc/hosts 54 bytes
127.0.0.1	localhost
# a comment: kept
172.18.0.5	web-1
etc: /etc/resolv.conf 37 bytes
nameserver 10.0.0.53
!ip6-loopback
!ip6-localnet
!FAIL" "$T" --etc-from="$W/etc" "$G/bootinfo"
    case_ etc-from-too-large 0 "--etc-from: $W/etc-big/hosts: larger than 256 KiB: left out, the image's stays
etc: /etc/resolv.conf 21 bytes
!etc: /etc/hosts
!FAIL" "$T" --etc-from="$W/etc-big" "$G/bootinfo"
    case_ etc-from-unreadable 0 "--etc-from: $W/etc-odd/hosts: left out, the image's stays: 
etc: /etc/hostname 4 bytes
!etc: /etc/hosts
!etc: /etc/resolv.conf
!FAIL" "$T" --etc-from="$W/etc-odd" "$G/bootinfo"
    case_ etc-from-folder-or-none 0 "etc: /etc/resolv.conf 21 bytes
!etc: /etc/hosts
!etc: /etc/hostname
!FAIL" "$T" --etc-from="$W/etc-dir" "$G/bootinfo"
    case_ etc-from-empty 0 "!etc: 
!FAIL" "$T" --etc-from="$W/etc-none" "$G/bootinfo"
    status_case seccomp-status 0
    status_case exec-heap 0 --x-exec-heap # nothing is executable and writable until the libOS asks
    strace_case

    # Escapes: each issues one forbidden syscall and must die by SIGSYS (159).
    for c in openat execve socket ptrace mount kill bpf io_uring_setup write-fd3 write-fd0 write-fd1-high \
        clock-cputime mmap pread64-fd1 pread64-fd3 read-fd3 mprotect-disk ppoll-nfds1 exit x32 \
        arch-prctl-set-gs arch-prctl-get-fs arch-prctl-set-cpuid arch-prctl-set-fs-high; do
        case_ "escape-$c" 159 "$E" "$T" --disk="$W/disk.txt" "$G/escape" "$c"
    done
    case_ disk-write-faults 139 "!ESCAPED" "$T" --disk="$W/disk.txt" "$G/escape" write-disk
    case_ disk-zero-length 0 "!disk:
!FAIL" "$T" --disk="$W/empty-disk" "$G/bootinfo"
    # Guest memory the host caps (memcap.c): a call outside the heap, or one that could
    # make memory usable without RLIMIT_DATA seeing it, dies by SIGSYS.
    for c in mprotect-text mprotect-boot mprotect-below mprotect-above mprotect-too-long mprotect-high-bits \
        mprotect-read-only mprotect-none mmap-rw mmap-not-fixed mmap-shared mmap-text mmap-above; do
        case_ "heap-$c" 159 "$E" "$T" "$G/heap" "$c"
    done
    case_ heap-exec 159 "$E" "$T" "$G/heap" exec
    case_ heap-exec-with-x-exec-heap 0 "returned 0x0" "$T" --x-exec-heap "$G/heap" exec
    case_ heap-write-past 139 "!ESCAPED" "$T" "$G/heap" write-past
    case_ heap-cap 0 "cap holds" "$T" --mem=64 "$G/heap" cap
    # A flat heap (--heap=flat): the window is usable from the start and is the cap; the two
    # memory calls a paged heap makes are not in the policy.
    # 52: --mem=64 less the main stack (8 MiB) and the 3 MiB below the guest's image end,
    # plus the page maps (nabla_heap_budget), in whole MiB.
    case_ heap-flat-window 139 "window writable: 52 MiB
!ESCAPED" "$T" --mem=64 --heap=flat "$G/heap" flat-window
    case_ heap-paged-mprotect 0 "ESCAPED: the call returned 0x0" "$T" "$G/heap" mprotect-rw
    case_ heap-paged-mmap-release 0 "ESCAPED: the call returned 0x" "$T" "$G/heap" mmap-release
    for c in mprotect-rw mmap-release exec; do
        case_ "heap-flat-$c" 159 "$E" "$T" --heap=flat "$G/heap" "$c"
    done
    status_case flat-heap 0 --heap=flat # the window is read-write, never executable
    # RLIMIT_AS between what the tender maps (8.1 GiB here) and that plus a heap-long
    # mprotect would switch RLIMIT_DATA's check off: refused. With room, the cap holds.
    case_ heap-cap-address-space-too-tight 125 "RLIMIT_AS
!cap holds" sh -c "ulimit -v 10000000 && exec \"\$0\" --mem=64 \"\$1\" cap" "$T" "$G/heap"
    case_ heap-cap-address-space-with-room 0 "cap holds" sh -c "ulimit -v 14000000 && exec \"\$0\" --mem=64 \"\$1\" cap" "$T" "$G/heap"
    # i386 `int $0x80` is read with i386 numbers: the filter's arch check kills it (159);
    # a host without 32-bit entry never lets the kernel see it: the CPU faults first (139).
    if "$G/probe" int80 2>/dev/null; then
        case_ escape-int80 159 "$E" "$T" "$G/escape" int80
    else
        note="refused by the CPU (SIGSEGV): this host has no 32-bit syscall entry"
        case_ escape-int80 139 "$E" "$T" "$G/escape" int80
    fi
    # The one call that depends on the FS-base mode.
    if [ "$mode" = host-call ]; then
        case_ arch-prctl-set-fs 0 "arch_prctl(ARCH_SET_FS) returned 0x0" "$T" "$G/escape" arch-prctl-set-fs
    else
        case_ arch-prctl-set-fs 159 "$E" "$T" "$G/escape" arch-prctl-set-fs
    fi

    # The trap path: calls from outside the hypercall code go to the guest's SIGSYS handler
    # and never reach the host; a forbidden call from inside it still dies by SIGSYS.
    case_ trap-served 0 "getpid -> 1039
execve -> 1059
write -> 1001
ptrace -> 1101
mount -> 1165
arch_prctl -> 1158
!ESCAPED" "$T" "$G/trap"
    case_ trap-gadget 159 "$E" "$T" "$G/trap" gadget
    # Faults go to the guest's trap handler too, with the kernel's siginfo and registers
    # (the libOS decides what the app gets: test/e2e/faults.test.ts); one it does not take
    # ends the guest, here with 128 + the signal.
    case_ fault-routed 0 "SIGSEGV code=1 addr=0x0 trapno=14 err=4 cr2=0x0
SIGSEGV code=2 addr=0x4
trapno=14 err=7
SIGILL code=2 addr=0x4
trapno=6 err=0 ip-is-the-insn=1
SIGFPE code=1 addr=0x4
trapno=0 err=0 ip-is-the-insn=1
SIGTRAP code=128 addr=0x0 trapno=3
SIGBUS code=1 addr=0x
trapno=17
resumed" "$T" "$G/fault"
    for c in segv:139 ill:132 fpe:136 trap:133 bus:135; do
        case_ "fault-unhandled-${c%:*}" "${c#*:}" "!resumed" "$T" "$G/nofault" "${c%:*}"
    done
    # --libos: a program without a libOS of its own is loaded beside one (this stand-in
    # only greets; the real libOS running real programs is tested end to end).
    case_ libos-beside 0 "Hello from a nabla guest!" "$T" --libos="$G/libos2m" "$G/nonote"
    case_ libos-has-own 125 "nabla-run: $G/hello: has a libOS linked in already; run it without --libos" \
        "$T" --libos="$G/libos2m" "$G/hello"
    case_ libos-no-note 125 "nabla-run: $G/nonote: no NABLA ABI note (.note.nabla): not a nabla libOS" \
        "$T" --libos="$G/nonote" "$G/nonote"
    case_ libos-overlap 125 "overlap" "$T" --libos="$G/hello" "$G/nonote"
    case_ libos-empty 125 "nabla-run: --libos= needs a PATH" "$T" --libos= "$G/nonote"
    # --interp: a program with PT_INTERP, its loader (here a static-pie stand-in) above the
    # images, AT_BASE pointing at it, and the libOS handing over to the loader's entry.
    case_ interp-beside 0 "at_base=0x
app_entry=0x
ok: AT_BASE: the loader, above the program, on a 2 MiB boundary
ok: app_entry: the loader's entry
!FAIL" "$T" --libos="$G/bootinfo2m" --interp="$G/pie" "$G/dyn"
    # PIE programs beside the libOS: a static-pie, started by a stand-in libOS that hands over
    # to it and checks from its auxv alone where the tender put it; a PIE with a loader.
    case_ pie-beside 0 "bias=0x400000
ok: AT_ENTRY: e_entry moved by the bias
ok: AT_ENTRY: where this code runs
!FAIL" "$T" --libos="$G/handover" "$G/pieapp"
    case_ pie-beside-bootinfo 0 "at_base=0x0 at_entry=0x40
ok: AT_ENTRY is the program's entry
ok: AT_PHDR
!FAIL" "$T" --libos="$G/bootinfo2m" "$G/pie"
    case_ pie-interp 0 "at_base=0x600000 at_entry=0x40
ok: AT_BASE: the loader, above the program, on a 2 MiB boundary
ok: app_entry: the loader's entry
!FAIL" "$T" --libos="$G/bootinfo2m" --interp="$G/pie" "$G/dynpie"
    case_ interp-missing 125 "nabla-run: $G/dyn: dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2); give its loader with --interp=PATH (and --libos), or link it with -static" \
        "$T" --libos="$G/libos2m" "$G/dyn"
    case_ interp-static-app 125 "nabla-run: $G/nonote: not dynamically linked (no PT_INTERP): run it without --interp" \
        "$T" --libos="$G/libos2m" --interp="$G/pie" "$G/nonote"
    case_ interp-no-libos 125 "nabla-run: --interp needs --libos" "$T" --interp="$G/pie" "$G/dyn"
    case_ interp-not-dyn 125 "nabla-run: $G/nonote: not a dynamic loader (ELF type 2, not ET_DYN)" \
        "$T" --libos="$G/libos2m" --interp="$G/nonote" "$G/dyn"
    case_ interp-has-note 125 "nabla-run: $G/pienote: has a NABLA ABI note: a dynamic loader is not a libOS" \
        "$T" --libos="$G/libos2m" --interp="$G/pienote" "$G/dyn"
    case_ interp-has-interp 125 "nabla-run: $G/dynpie: a dynamic loader that asks for a loader of its own (PT_INTERP)" \
        "$T" --libos="$G/libos2m" --interp="$G/dynpie" "$G/dyn"
    case_ interp-empty 125 "nabla-run: --interp= needs a PATH" "$T" --libos="$G/libos2m" --interp= "$G/dyn"
    # --exe-root: programs of a converted image, found by their guest paths under a folder
    # of the image: a bare name in $PATH, a path from the working directory, the loader its
    # PT_INTERP names; the guest sees guest paths (bootinfo checks exe_path == argv[0]).
    R=$W/xroot
    rm -rf "$R" && mkdir -p "$R/usr/bin" "$R/lib64" "$R$W"
    cp "$G/nonote" "$R/usr/bin/greet" && ln -s "$R/usr/bin/greet" "$R/usr/bin/alias"
    cp "$G/dyn" "$R/usr/bin/dyn" && cp "$G/pie" "$R/lib64/ld-linux-x86-64.so.2" && cp "$G/nonote" "$R$W/here"
    ln -s "$G/nonote" "$R/usr/bin/out" && cp "$G/nonote" "$R/usr/bin/noexec" && chmod 644 "$R/usr/bin/noexec"
    case_ exe-root-path 0 "Hello from a nabla guest!" env PATH=/nowhere:/usr/bin "$T" --libos="$G/libos2m" --exe-root="$R" greet
    case_ exe-root-symlink 0 "Hello from a nabla guest!" env PATH=/usr/bin "$T" --libos="$G/libos2m" --exe-root="$R" alias
    case_ exe-root-absolute 0 "Hello from a nabla guest!" "$T" --libos="$G/libos2m" --exe-root="$R" /usr/bin/greet
    case_ exe-root-relative 0 "Hello from a nabla guest!" "$T" --libos="$G/libos2m" --exe-root="$R" ./here
    case_ exe-root-interp 0 "ok: AT_BASE: the loader, above the program, on a 2 MiB boundary
ok: app_entry: the loader's entry
ok: exe_path on the boot page, the program's path
!FAIL" "$T" --libos="$G/bootinfo2m" --exe-root="$R" /usr/bin/dyn
    case_ exe-root-missing 127 "nabla-run: nope: not found in PATH (/usr/bin:/bin)" \
        env PATH=/usr/bin:/bin "$T" --libos="$G/libos2m" --exe-root="$R" nope
    case_ exe-root-not-executable 127 "nabla-run: /usr/bin/noexec: no such program in the image" \
        "$T" --libos="$G/libos2m" --exe-root="$R" /usr/bin/noexec
    case_ exe-root-escape 125 "leads outside --exe-root=$R" "$T" --libos="$G/libos2m" --exe-root="$R" /usr/bin/out
    case_ exe-root-dotdot 125 "leads outside --exe-root=$R" "$T" --libos="$G/libos2m" --exe-root="$R" "../../../../../../../../../../../..$G/nonote"
    case_ exe-root-no-loader 125 "its loader /lib64/ld-linux-x86-64.so.2 is not in the image" \
        "$T" --libos="$G/libos2m" --exe-root="$R/usr" /bin/dyn
    case_ exe-root-with-interp 125 "nabla-run: --exe-root takes the loader from the program's PT_INTERP" \
        "$T" --libos="$G/libos2m" --interp="$G/pie" --exe-root="$R" /usr/bin/dyn
    case_ exe-root-no-libos 125 "nabla-run: --exe-root needs --libos" "$T" --exe-root="$R" /usr/bin/greet
    rm -f "$W/xlink" "$W/xslash" && ln -s "$R" "$W/xlink" && ln -s / "$W/xslash"
    case_ exe-root-linked 0 "ok: exe_path on the boot page, the program's path
!FAIL" "$T" --libos="$G/bootinfo2m" --exe-root="$W/xlink" /usr/bin/dyn
    case_ exe-root-host-root 125 "nabla-run: --exe-root=$W/xslash: is the root of the container's file system" \
        "$T" --libos="$G/libos2m" --exe-root="$W/xslash" "$G/nonote"
    case_ exe-root-not-dir 125 "nabla-run: --exe-root=$G/nonote: not a folder" "$T" --libos="$G/libos2m" --exe-root="$G/nonote" greet
}

for T in "$@"; do
    case $T in /*) ;; *) T=$START/$T ;; esac
    tender=$(basename "$T")
    tag=$tender
    E="trying
!ESCAPED"
    if [ "$tag" = nabla-run ]; then # the one images ship: must run in a FROM-scratch image
        hdr=$(readelf -hlW "$T" 2>&1)
        ok=0
        echo "$hdr" | grep -q 'Type: *DYN' && ! echo "$hdr" | grep -q INTERP && ok=1
        result static-pie $ok "$(echo "$hdr" | grep -E 'Type:|INTERP' | tr -s ' \n' '  ')"
    fi
    for mode in cpu host-call; do
        tag=$tender@$mode
        tender_path=$T
        if [ $mode = cpu ] && [ "$has_fsgsbase" = 0 ]; then
            # The tender refuses cpu mode here; its test build that takes FSGSBASE as present
            # runs the same policy and boot flags (the guests never touch the FS base).
            T=$(dirname "$T")/nabla-run-assume-fsgsbase
            if [ ! -x "$T" ]; then
                echo "skip $tag all: this host has no FSGSBASE and $T is not built (make test builds it)"
                T=$tender_path
                continue
            fi
            echo "# $tag: no FSGSBASE here: the cpu cases run $(basename "$T")"
        fi
        NABLA_FS_BASE=$mode
        export NABLA_FS_BASE
        mode_cases
        unset NABLA_FS_BASE
        T=$tender_path
    done
    tag=$tender

    page_cache_case

    # The policy: this host's, each mode's, and every host's (the image label).
    case_ policy 0 "write fd=1|2
clock_gettime clockid=REALTIME|MONOTONIC
ppoll nfds=0
exit_group
rt_sigreturn
mprotect prot=PROT_READ+PROT_WRITE addr=<guest heap> len=<guest heap>
mmap flags=MAP_PRIVATE+MAP_FIXED+MAP_ANONYMOUS+MAP_NORESERVE addr=<guest heap> len=<guest heap> prot=PROT_NONE
!PROT_EXEC
!pread64" "$T" --print-policy
    case_ policy-flat-heap 0 "rt_sigreturn
!mprotect
!mmap" "$T" --print-policy --heap=flat
    case_ policy-flat-heap-any-host 0 "rt_sigreturn
!mprotect
!mmap" "$T" --print-policy=any-host --heap=flat
    case_ heap-flat-with-x-exec-heap 125 "--heap=flat and --x-exec-heap do not go together" "$T" --heap=flat --x-exec-heap "$G/hello"
    case_ heap-mode-bad 125 "--heap=big: the heap is paged or flat" "$T" --heap=big "$G/hello"
    case_ policy-exec-heap 0 "mprotect prot=PROT_READ+PROT_WRITE|PROT_READ+PROT_WRITE+PROT_EXEC addr=<guest heap>" "$T" --print-policy --x-exec-heap
    case_ policy-disk 0 "exit_group
!pread64
!<disk>" "$T" --print-policy --disk=/nonexistent
    case_ policy-host-call 0 "arch_prctl code=ARCH_SET_FS
![only on" "$T" --print-policy --fs-base=host-call
    case_ policy-any-host 0 "rt_sigreturn
arch_prctl code=ARCH_SET_FS [only on hosts without FSGSBASE, or with NABLA_FS_BASE=host-call]" "$T" --print-policy=any-host
    case_ fs-base-flag-wins 0 "arch_prctl code=ARCH_SET_FS" env NABLA_FS_BASE=cpu "$T" --fs-base=host-call --print-policy
    case_ fs-base-bad 125 "nabla-run: --fs-base=fast: not auto, cpu or host-call" "$T" --fs-base=fast "$G/hello"
    case_ fs-base-env-bad 125 "nabla-run: NABLA_FS_BASE=fast: not auto, cpu or host-call" env NABLA_FS_BASE=fast "$T" "$G/hello"
    case_ fs-base-flag-wins-over-a-bad-env 0 "arch_prctl code=ARCH_SET_FS" env NABLA_FS_BASE=fast "$T" --fs-base=host-call --print-policy
    if [ "$has_fsgsbase" = 1 ]; then
        case_ policy-cpu 0 "rt_sigreturn
!arch_prctl" "$T" --print-policy --fs-base=cpu
        case_ policy-cpu-env 0 "!arch_prctl" env NABLA_FS_BASE=cpu "$T" --print-policy
        case_ policy-auto 0 "!arch_prctl" "$T" --print-policy
    else
        case_ policy-cpu 125 "nabla-run: --fs-base=cpu: this CPU or kernel does not let user space set the FS base (FSGSBASE, Linux >= 5.9); use --fs-base=auto" \
            "$T" --fs-base=cpu "$G/hello"
        case_ policy-cpu-env 125 "nabla-run: NABLA_FS_BASE=cpu: this CPU or kernel does not let user space set the FS base (FSGSBASE, Linux >= 5.9); use NABLA_FS_BASE=auto" \
            env NABLA_FS_BASE=cpu "$T" "$G/hello"
        case_ policy-auto 0 "arch_prctl code=ARCH_SET_FS" "$T" --print-policy
    fi

    # The loader and the CLI refuse bad input: exit 125, one line naming the problem.
    case_ no-file 125 "nabla-run: $W/nope: cannot open: No such file or directory" "$T" "$W/nope"
    case_ not-elf 125 "nabla-run: $G/notelf: not an ELF file" "$T" "$G/notelf"
    case_ wrong-arch 125 "nabla-run: $G/arm64: built for another architecture (ELF machine 183), not x86-64" "$T" "$G/arm64"
    case_ truncated 125 "nabla-run: $G/trunc: segment at 0x4
lies outside the file" "$T" "$G/trunc"
    case_ note-outside-file 125 "nabla-run: $G/notefar: PT_NOTE lies outside the file" "$T" "$G/notefar"
    case_ no-note 125 "nabla-run: $G/nonote: no NABLA ABI note (.note.nabla): not a nabla unikernel (a static Linux program runs with --libos=PATH)" "$T" "$G/nonote"
    case_ two-notes 125 "nabla-run: $G/twonotes: more than one NABLA ABI note: a unikernel has exactly one, the libOS's" "$T" "$G/twonotes"
    case_ wrong-abi 125 "nabla-run: $G/abi1: built for nabla ABI version 1, this nabla-run runs version 7" "$T" "$G/abi1"
    case_ pie 125 "nabla-run: $G/pie: position-independent (ET_DYN); link the unikernel with -static -no-pie (a PIE Linux program runs with --libos=PATH)" "$T" "$G/pie"
    # Hostile PIEs (beside the libOS, and as a loader): one line each, nothing runs.
    case_ pie-overlap 125 "nabla-run: $G/pie-overlap: segments at 0x400000 and 0x400000 share a page
!Hello" "$T" --libos="$G/libos2m" "$G/pie-overlap"
    case_ pie-top 125 "nabla-run: $G/pie-top: segment at 0xfffffffffffff000 (0x
lies beyond the largest guest memory (65536 MiB)
!Hello" "$T" --libos="$G/libos2m" "$G/pie-top"
    case_ pie-wrap 125 "lies beyond the largest guest memory (65536 MiB)
!Hello" "$T" --libos="$G/libos2m" "$G/pie-wrap"
    case_ pie-huge 125 "nabla-run: $G/pie-huge: segment at 0x
(0x10000000000 bytes) lies beyond the largest guest memory (65536 MiB)
!Hello" "$T" --libos="$G/libos2m" "$G/pie-huge"
    case_ pie-beyond-mem 125 "nabla-run: $G/pie-beyond-mem: image ends at 0x
needs --mem >=
!Hello" "$T" --libos="$G/libos2m" "$G/pie-beyond-mem"
    case_ pie-no-load 125 "nabla-run: $G/pie-no-load: no PT_LOAD segment
!Hello" "$T" --libos="$G/libos2m" "$G/pie-no-load"
    case_ loader-top 125 "nabla-run: $G/pie-top: segment at 0xfffffffffffff000 (0x
!Hello" "$T" --libos="$G/libos2m" --interp="$G/pie-top" "$G/dyn"
    case_ loader-overlap 125 "nabla-run: $G/pie-overlap: segments at 0x
share a page
!Hello" "$T" --libos="$G/libos2m" --interp="$G/pie-overlap" "$G/dyn"
    case_ loader-no-load 125 "nabla-run: $G/pie-no-load: no PT_LOAD segment
!Hello" "$T" --libos="$G/libos2m" --interp="$G/pie-no-load" "$G/dyn"
    case_ wx-segment 125 "is both writable and executable (W^X)" "$T" "$G/wx"
    case_ below-guest 125 "nabla-run: $G/low: segment at 0x10000 lies below guest memory" "$T" "$G/low"
    case_ beyond-mem 125 "nabla-run: $G/high: image ends at 0x400" "$T" "$G/high"
    need=$(sed -n 's/.*needs --mem >= \([0-9]*\)$/\1/p' "$LOG/$tag.beyond-mem") # 1 GiB + 8 MiB stack: ~1032
    case_ beyond-mem-fits 0 "Hello from a nabla guest!" "$T" --mem="${need:-0}" "$G/high"
    case_ beyond-mem-by-1 125 "needs --mem >= ${need:-0}" "$T" --mem=$((${need:-0} - 1)) "$G/high"
    case_ mem-too-small 125 "nabla-run: --mem=1: must be between 8 and 65536 MiB" "$T" --mem=1 "$G/hello"
    case_ mem-too-large 125 "nabla-run: --mem=65537: must be between 8 and 65536 MiB" "$T" --mem=65537 "$G/hello"
    case_ mem-not-number 125 "nabla-run: --mem=12x: not a number of MiB" "$T" --mem=12x "$G/hello"
    case_ unknown-flag 125 "nabla-run: unknown option --network=tap0 (see nabla-run --help)" "$T" --network=tap0 "$G/hello"
    case_ disk-empty 125 "nabla-run: --disk= needs a PATH" "$T" --disk= "$G/hello"
    case_ no-unikernel 125 "nabla-run: no UNIKERNEL given" "$T" --mem=64
    case_ disk-missing 125 "nabla-run: $W/nodisk: cannot open the disk: No such file or directory" \
        "$T" --disk="$W/nodisk" "$G/hello"
    case_ disk-dir 125 "nabla-run: $W/adir: the disk must be a regular file or a block device" \
        "$T" --disk="$W/adir" "$G/hello"
    # --net: the flags are checked before anything else; a tap that cannot be had is one
    # line naming what is missing. (Cases with a real tap: test/native/net/run.sh.)
    N="--net-ip=10.0.0.2/24"
    case_ policy-net 0 "write fd=1|2|<net>|<dns>
read fd=<net>|<dns>
epoll_pwait fd=<netwait>
ppoll nfds=0" "$T" --print-policy --net=tap0
    case_ net-no-ip 125 "nabla-run: --net=tap0 needs --net-ip=A.B.C.D/LEN, the unikernel's address" "$T" --net=tap0 "$G/hello"
    case_ net-ip-without-net 125 "nabla-run: --net-ip is for a network: add --net=TAP" "$T" $N "$G/hello"
    case_ net-empty 125 "nabla-run: --net= needs the name of a tap interface" "$T" --net= $N "$G/hello"
    case_ net-long-name 125 "nabla-run: --net=tap-name-of-16-ch: an interface name has at most 15 characters" \
        "$T" --net=tap-name-of-16-ch $N "$G/hello"
    case_ net-bad-ip 125 "nabla-run: --net-ip=10.0.300.2/24: not an IPv4 address (A.B.C.D/LEN)" \
        "$T" --net=tap0 --net-ip=10.0.300.2/24 "$G/hello"
    case_ net-no-prefix 125 "nabla-run: --net-ip=10.0.0.2: not an IPv4 address with a prefix length (A.B.C.D/LEN, LEN 1..32)" \
        "$T" --net=tap0 --net-ip=10.0.0.2 "$G/hello"
    case_ net-bad-prefix 125 "nabla-run: --net-ip=10.0.0.2/33: not an IPv4 address with a prefix length" \
        "$T" --net=tap0 --net-ip=10.0.0.2/33 "$G/hello"
    case_ net-network-address 125 "nabla-run: --net-ip=10.0.0.0/24: the network's or its broadcast address, not a host's" \
        "$T" --net=tap0 --net-ip=10.0.0.0/24 "$G/hello"
    case_ net-loopback 125 "nabla-run: --net-ip=127.0.0.2/8: not a host's address" "$T" --net=tap0 --net-ip=127.0.0.2/8 "$G/hello"
    case_ net-gw-outside 125 "nabla-run: --net-gw=10.1.0.1: not another address inside --net-ip=10.0.0.2/24" \
        "$T" --net=tap0 $N --net-gw=10.1.0.1 "$G/hello"
    case_ net-gw-bad 125 "nabla-run: --net-gw=gateway: not an IPv4 address (A.B.C.D)" "$T" --net=tap0 $N --net-gw=gateway "$G/hello"
    case_ net-mac-bad 125 "nabla-run: --net-mac=02:00:00:00:00: not a MAC address (xx:xx:xx:xx:xx:xx)" \
        "$T" --net=tap0 $N --net-mac=02:00:00:00:00 "$G/hello"
    case_ net-mac-multicast 125 "nabla-run: --net-mac=01:00:5e:00:00:01: a multicast address (the first byte must be even)" \
        "$T" --net=tap0 $N --net-mac=01:00:5e:00:00:01 "$G/hello"
    case_ net-no-such-tap 125 "nabla-run: --net=nabla-nope0: no such network interface (make the tap first: ip tuntap add dev nabla-nope0 mode tap)" \
        "$T" --net=nabla-nope0 $N "$G/hello"
    # lo exists in every network namespace and is up, but is no tap.
    if [ -e /dev/net/tun ]; then want="nabla-run: --net=lo: not a tap interface (a tun, or another kind of device)"
    else want="nabla-run: --net=lo: /dev/net/tun is missing (in a container: docker run --device /dev/net/tun)"
    fi
    case_ net-lo 125 "$want" "$T" --net=lo $N "$G/hello"

    if cat "$W/secret" >/dev/null 2>&1; then
        echo "skip $tag disk-unreadable: this user reads a mode-000 file (root with CAP_DAC_OVERRIDE)"
    else
        case_ disk-unreadable 125 "nabla-run: $W/secret: cannot open the disk: Permission denied" \
            "$T" --disk="$W/secret" "$G/hello"
    fi
done

# The window between the guest's handler and the filter is closed: a signal raised there
# (the test build's hook) waits until the guest runs under its filter.
T=$(dirname "$1")/nabla-run-assume-fsgsbase
case $T in /*) ;; *) T=$START/$T ;; esac
tag=$(basename "$T")
if [ -x "$T" ]; then
    case_ signal-before-filter 159 "!UNFILTERED
!entered" env NABLA_FS_BASE=host-call NABLA_TEST_SIGNAL_BEFORE_FILTER=1 "$T" "$G/window"
    case_ signal-before-filter-none 0 "entered, no signal came" env NABLA_FS_BASE=host-call "$T" "$G/window"
else
    echo "skip $tag signal-before-filter: $T is not built (make test builds it)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
