#!/bin/sh
# Turns a musl source tree (apt-get source musl) into libOS-musl: system calls become calls
# to libos_syscall(), and the few assembly files that held a `syscall` instruction are
# replaced by the versions in overrides/. Usage: relink.sh MUSL_SRC_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$1
cp "$here/syscall_arch.h" "$src/arch/x86_64/syscall_arch.h"
rm -f "$src/src/thread/x86_64/__set_thread_area.s" "$src/src/thread/x86_64/syscall_cp.s" \
      "$src/src/thread/x86_64/clone.s" "$src/src/thread/x86_64/__unmapself.s" \
      "$src/src/signal/x86_64/restore.s" "$src/src/process/x86_64/vfork.s"
cp "$here/overrides/__set_thread_area.c" "$here/overrides/syscall_cp.s" \
   "$here/overrides/clone.c" "$here/overrides/__unmapself.c" "$src/src/thread/x86_64/"
cp "$here/overrides/restore.s" "$src/src/signal/x86_64/"
cp "$here/overrides/vfork.c" "$src/src/process/x86_64/"
