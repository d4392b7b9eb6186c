#!/bin/sh
# install-example.sh BUILDDIR - install the build configured in BUILDDIR
# (default_library=both) into BUILDDIR/prefix, then build examples/
# two-step.c against the installed headers and library exactly as the
# README says, with pkg-config, linked statically and dynamically, and run
# both.  Prints TAP; exit 1 if a step fails.
set -u
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(cd "$build" && pwd)/prefix
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }

rm -rf "$prefix"
if meson install -C "$build" --quiet > "$build/install.log" 2>&1; then
	ok "meson install into $prefix"
else
	not_ok "meson install"; cat "$build/install.log"
fi
pc=$(find "$prefix" -name dmalink.pc | head -n 1)
export PKG_CONFIG_PATH="$(dirname "${pc:-/nonexistent/x}")"
cc=${CC:-cc}

# static: the archive and the libraries it needs (pkg-config --static)
if $cc "$src/examples/two-step.c" -o "$build/two-step-static" \
	$(pkg-config --cflags dmalink) -Wl,-Bstatic \
	$(pkg-config --libs-only-L dmalink) -ldmalink -Wl,-Bdynamic \
	$(pkg-config --static --libs-only-other --libs-only-l dmalink | sed 's/-ldmalink//') \
	2> "$build/static.log" && "$build/two-step-static" > /dev/null; then
	ok "the example, linked statically with pkg-config, runs"
else
	not_ok "static example"; cat "$build/static.log"
fi

# shared: the README's one-liner; the linker prefers libdmalink.so
libdir=$(pkg-config --variable=libdir dmalink)
if $cc "$src/examples/two-step.c" -o "$build/two-step-shared" \
	$(pkg-config --cflags --libs dmalink) 2> "$build/shared.log" &&
   LD_LIBRARY_PATH=$libdir ldd "$build/two-step-shared" | grep -q "$libdir/libdmalink.so" &&
   LD_LIBRARY_PATH=$libdir "$build/two-step-shared" > /dev/null; then
	ok "the example, linked with pkg-config --cflags --libs, runs on the shared library"
else
	not_ok "shared example"; cat "$build/shared.log"
fi

echo "1..$n"
exit $fail
