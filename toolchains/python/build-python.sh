#!/bin/bash
# Builds, inside the python toolchain image (on the c toolchain):
#   /opt/nabla/python/python.nabla   CPython 3.11 as a nabla unikernel: Debian's source,
#                                    compiled statically against musl with the C modules built
#                                    in (Modules/Setup.local, no shared modules), relinked by
#                                    nabla-cc against libOS-musl and the libOS;
#   /opt/nabla/python/rootfs/        its standard library (/usr/lib/python3.11), trimmed and
#                                    precompiled (unchecked-hash pycs), for the app's rootfs;
#   /opt/nabla/python/bin/python3    the same interpreter as a plain static musl program, run
#                                    at build time only (precompiling, checking apps);
#   /opt/nabla/python/modules.txt    the built-in modules, one a line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=/opt/nabla/python
deps=/opt/nabla/python/deps
work=$(mktemp -d)
jobs=$(nproc)
# Reproducible bytes: gcc's __DATE__/__TIME__ (CPython's build info) and the pycs' dates.
export SOURCE_DATE_EPOCH=0

# Debian's sources from the image's own mirror, enabled the way build-nabla.sh does it
# (idempotent: the c toolchain already did it).
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $list && $list != */nabla-src.list ]] && sed -n 's/^deb /deb-src /p' "$list"
done > /etc/apt/sources.list.d/nabla-src.list
for sources in /etc/apt/sources.list.d/*.sources; do
  [[ -f $sources ]] && sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
done
apt-get update -qq
(cd "$work" && apt-get source -qq python3.11 zlib 2>&1 | grep -v '^dpkg-source: info' || true)
rm -rf /var/lib/apt/lists/*
py_src=$(echo "$work"/python3.11-*/)
zlib_src=$(echo "$work"/zlib-*/)
[[ -f $py_src/configure && -f $zlib_src/zlib.h ]] || { echo "build-python: apt-get source python3.11 zlib failed" >&2; exit 1; }

# Compiled with Debian's musl-gcc, so that configure's test programs and the build's own
# tools (_freeze_module, _bootstrap_python, the interpreter that precompiles the stdlib) run
# on this machine; libOS-musl is the same musl (same Debian source, same headers), and only
# the final link (nabla-cc, below) puts libOS-musl and the libOS under the same objects.
cc=musl-gcc
cflags="-O2 -fno-stack-protector -ffile-prefix-map=$work=. -fno-ident"

echo "build-python: zlib"
(cd "$zlib_src" && CC=$cc CFLAGS="$cflags" ./configure --static --prefix="$deps" >/dev/null \
   && make -j"$jobs" libz.a >/dev/null && make install >/dev/null 2>&1) || [[ -f $deps/lib/libz.a ]]

echo "build-python: CPython configure"
# configure asks gcc for its multiarch (x86_64-linux-gnu), which contradicts musl's triplet.
sed -i 's/MULTIARCH=\$(\$CC --print-multiarch 2>\/dev\/null)/MULTIARCH=/' "$py_src/configure"
build=$work/build
mkdir -p "$build"
cd "$build"
# MODULE_BUILDTYPE=static: configure writes Modules/Setup.stdlib with *static*; every module
# whose dependencies it finds is compiled into the interpreter. IPv6 off: the libOS has none.
MODULE_BUILDTYPE=static CC=$cc CFLAGS="$cflags" CPPFLAGS="-I$deps/include" \
  LDFLAGS="-static -L$deps/lib" ZLIB_CFLAGS="-I$deps/include" ZLIB_LIBS="-L$deps/lib -lz" \
  "$py_src/configure" --prefix=/usr --disable-shared --disable-test-modules --without-ensurepip \
    --disable-ipv6 --with-lto=no > configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }

# On Linux, Setup.stdlib is only a template (setup.py builds shared modules); as the
# Setup.local it makes them built-in. Dropped: _crypt (deprecated; needs -lcrypt at the
# freeze step) and the *shared* example modules (xxlimited).
sed -e '/^\*shared\*/,$d' -e '/^_crypt /d' Modules/Setup.stdlib > Modules/Setup.local
echo "build-python: make ($jobs jobs)"
make -j"$jobs" python pybuilddir.txt > make.log 2>&1 || { tail -30 make.log >&2; exit 1; }

# The unikernel: CPython's objects and static libraries, with our main() (nabla_main.c:
# the app's entry from NABLA_PYTHON_MAIN), linked by nabla-cc.
printf 'nabla-print-libs:\n\t@echo $(LIBRARY) $(MODLIBS) $(LIBS) $(SYSLIBS)\n' > print.mk
read -r -a libs <<< "$(make -s -f Makefile -f print.mk nabla-print-libs)"
mkdir -p "$out/bin"
$cc $cflags -I. -I"$py_src/Include" -c "$here/nabla_main.c" -o nabla_main.o
nabla-cc -o python.nabla nabla_main.o "${libs[@]}"
readelf -n python.nabla | grep -q NABLA || { echo "build-python: python.nabla has no nabla ABI note" >&2; exit 1; }
strip --strip-all -o "$out/python.nabla" python.nabla
strip --strip-all -o "$out/bin/python3" python

# The standard library: Lib/ and the generated sysconfig data, without tests, IDLE, Tk,
# turtle, ensurepip (no pip without a network) and pydoc's topics; precompiled with
# unchecked-hash pycs (no source mtimes in them, never re-checked: the rootfs is read-only
# in practice and PYTHONDONTWRITEBYTECODE is set), as they will be seen at run time.
stdlib=$out/rootfs/usr/lib/python3.11
rm -rf "$out/rootfs"
mkdir -p "$stdlib/lib-dynload"
cp -a "$py_src/Lib/." "$stdlib/"
cp "$(cat pybuilddir.txt)"/_sysconfigdata_*.py "$stdlib/"
(cd "$stdlib" && rm -rf test idlelib tkinter turtledemo turtle.py ensurepip pydoc_data \
   lib2to3/tests ctypes/test sqlite3/test unittest/test distutils/tests)
find "$stdlib" -name __pycache__ -prune -exec rm -rf {} +
# socket.socketpair() falls back to a loopback TCP pair (socketpair.py says why).
cat "$here/socketpair.py" >> "$stdlib/socket.py"
./python -E -m compileall -q -j"$jobs" --invalidation-mode unchecked-hash \
  -s "$out/rootfs" -p / "$stdlib" > compileall.log 2>&1 || { tail -30 compileall.log >&2; exit 1; }
find "$out/rootfs" -exec touch -h -d @0 {} +
PYTHONHOME=$out/rootfs/usr "$out/bin/python3" -s -B -c '
import sys, json, decimal, zlib, hashlib, datetime, socket, select, xml.etree.ElementTree
print("\n".join(sys.builtin_module_names))' > "$out/modules.txt"
echo "build-python: $(wc -l < "$out/modules.txt") built-in modules; stdlib $(du -sh "$stdlib" | cut -f1); python.nabla $(stat -c %s "$out/python.nabla") bytes"
cd /
rm -rf "$work"
