#!/bin/bash
# Builds, inside the toolchain image: libOS-musl into /opt/nabla/musl, the libOS into
# /opt/nabla/lib/libos.o, the tender into /opt/nabla/bin/nabla-run, and installs nabla-cc.
set -euo pipefail
src=/opt/nabla/src
work=$(mktemp -d)

# Debian's musl source: the same musl as the musl-tools package, from the same mirror.
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $list ]] && sed -n 's/^deb /deb-src /p' "$list"
done > /etc/apt/sources.list.d/nabla-src.list
for sources in /etc/apt/sources.list.d/*.sources; do
  [[ -f $sources ]] && sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
done
apt-get update -qq
(cd "$work" && apt-get source -qq musl)
rm -rf /var/lib/apt/lists/*
musl_src=$(echo "$work"/musl-*/)

"$src/native/libos-musl/relink.sh" "$musl_src"
(cd "$musl_src" && ./configure --prefix=/opt/nabla/musl --disable-shared \
   CFLAGS="-O2 -fno-stack-protector" >/dev/null && make -j"$(nproc)" >/dev/null && make install >/dev/null)
# No `syscall` instruction may remain in libc: every system call goes through the libOS.
if objdump -d /opt/nabla/musl/lib/libc.a | grep -qP '\tsyscall\s*$'; then
  echo "build-nabla: libOS-musl still contains a syscall instruction" >&2
  objdump -d /opt/nabla/musl/lib/libc.a | grep -B20 -P '\tsyscall\s*$' | grep '>:' >&2
  exit 1
fi

mkdir -p /opt/nabla/lib /opt/nabla/bin
make -C "$src/native/libos" CC=/opt/nabla/musl/bin/musl-gcc OUT=/opt/nabla/lib >/dev/null
find /opt/nabla/lib -name '*.o' ! -name libos.o -delete
# The tender: static-pie, so it runs FROM scratch and the kernel places it far above the
# guest region (native/tender/Makefile says how, around Debian's musl-gcc).
make -C "$src/native/tender" OUT=/opt/nabla/bin /opt/nabla/bin/nabla-run >/dev/null
install -m 0755 "$src/nabla-cc" /usr/local/bin/nabla-cc
rm -rf "$work"
