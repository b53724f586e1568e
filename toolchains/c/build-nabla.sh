#!/bin/bash
# Builds, inside the toolchain image: libOS-musl into /opt/nabla/musl, the libOS (with
# lwIP, its TCP/IP stack, from Debian's source kept at /opt/nabla/lwip for the native tests)
# into /opt/nabla/lib/libos.o (linked into relinked apps) and /opt/nabla/lib/libos.nabla
# (run beside programs that were not relinked), the tender into /opt/nabla/bin/nabla-run,
# and installs nabla-cc.
set -euo pipefail
src=/opt/nabla/src
work=$(mktemp -d)

# Debian's musl and lwIP sources: the same musl as the musl-tools package, from the same mirror.
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $list ]] && sed -n 's/^deb /deb-src /p' "$list"
done > /etc/apt/sources.list.d/nabla-src.list
for sources in /etc/apt/sources.list.d/*.sources; do
  [[ -f $sources ]] && sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
done
apt-get update -qq
(cd "$work" && apt-get source -qq musl lwip)
rm -rf /var/lib/apt/lists/*
musl_src=$(echo "$work"/musl-*/)
# lwIP: only the core, IPv4, Ethernet and the headers are built (native/libos/Makefile).
lwip_src=$(echo "$work"/lwip-*/)
mkdir -p /opt/nabla/lwip/src/netif
cp -r "$lwip_src/src/core" "$lwip_src/src/include" /opt/nabla/lwip/src/
cp "$lwip_src/src/netif/ethernet.c" /opt/nabla/lwip/src/netif/
cp "$lwip_src/COPYING" /opt/nabla/lwip/

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
make -C "$src/native/libos" CC=/opt/nabla/musl/bin/musl-gcc LWIP=/opt/nabla/lwip OUT=/opt/nabla/lib all >/dev/null
find /opt/nabla/lib -name '*.o' ! -name libos.o -delete
rm -rf /opt/nabla/lib/lwip
# The libOS's host calls must all lie in its hypercall section (the filter allows them only
# there), and the trap handler runs on the app's FS base: no code may read TLS (%fs).
section_syscalls() { objdump -d -j nabla_hypercall "$1" | grep -cP '	syscall\s*$'; }
all_syscalls() { objdump -d "$1" | grep -cP '	syscall\s*$'; }
for elf in /opt/nabla/lib/libos.o /opt/nabla/lib/libos.nabla; do
  if [[ $(section_syscalls "$elf") != $(all_syscalls "$elf") ]]; then
    echo "build-nabla: $elf has a syscall instruction outside its nabla_hypercall section" >&2
    exit 1
  fi
  if objdump -d "$elf" | grep -q '%fs:'; then
    echo "build-nabla: $elf reads TLS (%fs), which the trap handler cannot" >&2
    exit 1
  fi
done
# The tender: static-pie, so it runs FROM scratch and the kernel places it far above the
# guest region (native/tender/Makefile says how, around Debian's musl-gcc).
make -C "$src/native/tender" OUT=/opt/nabla/bin /opt/nabla/bin/nabla-run >/dev/null
install -m 0755 "$src/nabla-cc" /usr/local/bin/nabla-cc
rm -rf "$work"
