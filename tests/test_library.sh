#!/bin/sh
# test_library.sh -- the library as a user gets it: `make install` into a
# DESTDIR, then the README's C example (section "The library") built with
# pkg-config against the installed header and library, shared and static,
# run on the installed Fashion-MNIST model, its output compared with the
# installed `resnet classify`'s; then the README's Python (ctypes) example
# against the installed libresnet.so.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
D=$T/root
P=/opt/resnet-test
L=$D$P/lib
VERSION=$($R --version | cut -d' ' -f2)

make -s install DESTDIR="$D" PREFIX="$P" >"$T/install.log" 2>&1
check "make install DESTDIR=... PREFIX=$P" [ $? -eq 0 ]
for f in bin/resnet include/resnet.h lib/libresnet.a lib/libresnet.so.$VERSION lib/libresnet.so.0 \
         lib/libresnet.so lib/pkgconfig/resnet.pc share/man/man1/resnet.1 share/man/man5/resnet-spec.5 \
         share/resnet/fashion_resnet20.json share/resnet/fashion_resnet20.safetensors \
         share/resnet/fashion_labels.txt; do
    check "installed: $P/$f" [ -e "$D$P/$f" ]
done
nm -D --defined-only "$L/libresnet.so.$VERSION" | awk '{print $3}' | sort >"$T/exported"
check "libresnet.so exports exactly the calls resnet.h declares" sh -c \
    "! grep -v '^resnet_' '$T/exported' && \
     [ \$(wc -l <'$T/exported') -eq \$(grep -c '^RESNET_API' src/resnet.h) ]"

# the README's examples, exactly as printed there
example() {  # example NAME: the code block after the README's "<!-- example: NAME" line
    awk -v name="$1" 'index($0, "<!-- example: " name " ") == 1 { want = 1; next }
                      want && /^```/ { if (inside) exit; inside = 1; next }
                      inside { print }' README.md
}
example classify.c >"$T/classify.c"
example classify.py >"$T/classify.py"
check "README has the C and Python examples" sh -c "[ -s '$T/classify.c' ] && [ -s '$T/classify.py' ]"

# An ASan build's library needs the sanitizer runtimes: loaded first for the
# shared one, linked in with the static one.
run_env= san=
if ldd "$L/libresnet.so.$VERSION" | grep -q libasan; then
    run_env="LD_PRELOAD=$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so) ASAN_OPTIONS=detect_leaks=0"
    san=-fsanitize=address,undefined
fi
export PKG_CONFIG_PATH="$L/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
flags=$(pkg-config --cflags --libs resnet)
check "pkg-config --cflags --libs resnet: the installed header and library ($flags)" sh -c \
    "echo '$flags' | grep -q -- '-I$D$P/include' && echo '$flags' | grep -q -- '-L$L -lresnet'"
cc -o "$T/classify" "$T/classify.c" $flags 2>"$T/cc.err"
check "the C example builds against the installed library" [ $? -eq 0 ]
cc $san -o "$T/classify_static" "$T/classify.c" $(pkg-config --cflags resnet) "$L/libresnet.a" \
    $(pkg-config --static --libs resnet | sed 's/-lresnet//') 2>"$T/cc_static.err"
check "the C example links libresnet.a with pkg-config --static's libraries, no libresnet.so" \
    sh -c "[ -x '$T/classify_static' ] && ! readelf -d '$T/classify_static' | grep -q libresnet"

MODEL=$D$P/share/resnet/fashion_resnet20.json
WEIGHTS=$D$P/share/resnet/fashion_resnet20.safetensors
IMAGES="tests/images/fashion/00_t-shirt_top.png tests/images/fashion/07_sneaker.png \
        tests/images/fashion/09_ankle_boot.png tests/images/parity/chelsea.jpg"
$D$P/bin/resnet classify -m fashion_resnet20 -f tsv -k 3 $IMAGES >"$T/want" 2>"$T/want.err"
check "the installed resnet classifies with its installed model" sh -c "[ -s '$T/want' ]"
for bin in classify classify_static; do
    env $run_env LD_LIBRARY_PATH="$L" "$T/$bin" "$MODEL" "$WEIGHTS" $IMAGES >"$T/$bin.out" 2>"$T/$bin.err"
    check "$bin: prints exactly what resnet classify -f tsv -k 3 prints" cmp "$T/want" "$T/$bin.out"
done
env $run_env LD_LIBRARY_PATH="$L" "$T/classify" "$MODEL" "$WEIGHTS" tests/images/no-such.png \
    >"$T/bad.out" 2>"$T/bad.err"
check "the C example on a missing image: exit 1, the library's one line naming it" sh -c \
    "[ $? -eq 1 ] && [ \$(wc -l <'$T/bad.err') -eq 1 ] && grep -q no-such.png '$T/bad.err'"

if /usr/bin/python3 -c 'import ctypes' 2>/dev/null; then
    env $run_env LD_LIBRARY_PATH="$L" /usr/bin/python3 "$T/classify.py" "$MODEL" "$WEIGHTS" $IMAGES \
        >"$T/py.out" 2>"$T/py.err"
    check "the Python (ctypes) example: each image's top-1 as classify's, probability to 1e-6" \
        awk -F'\t' 'FILENAME == ARGV[1] { if ($2 == 1) { idx[$1] = $3; p[$1] = $4; lab[$1] = $5 }; next }
                    { n++; d = $3 - p[$1]; if ($2 != idx[$1] || $4 != lab[$1] || d > 1e-6 || d < -1e-6) bad++ }
                    END { exit !(n == 4 && !bad) }' "$T/want" "$T/py.out"
else
    skip "the Python (ctypes) example: /usr/bin/python3 not installed (make deps installs it)"
fi
finish tests/test_library.sh
