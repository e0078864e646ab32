#!/bin/sh
# test_structure.sh -- the shape of the code that DESIGN.md and the README
# promise, checked on the built objects and the sources:
#   - no circle among the modules: module A depends on B when A's object
#     calls or reads a symbol B's defines (nm); tsort finds any loop;
#   - the CPU-detection header is included by the forward pass only
#     (forward.c, and forward_paths.c, which picks each op's kernel), and no
#     object but the ISA files themselves and the table lookup (kernels.o)
#     defines or names an ISA-specific symbol;
#   - no source file over 800 lines (the generated ones live in build/).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh

objs=$(ls build/*.o | grep -v '/main\.o$')
# "object symbol" for every global symbol each object defines, then uses;
# the compiler's and sanitizers' own (__odr_asan.x, __ubsan_...) left out
for o in $objs; do
    nm -g --defined-only "$o" | awk -v o="$(basename "$o" .o)" 'NF == 3 && $3 !~ /^__/ { print o, $3 }'
done | sort -k2 >"$T/defined"
for o in $objs build/main.o; do
    nm -u "$o" | awk -v o="$(basename "$o" .o)" '{ print o, $2 }'
done | sort -k2 >"$T/used"
join -1 2 -2 2 "$T/used" "$T/defined" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$T/edges"
check "the module graph was read ($(wc -l <"$T/edges") edges between $(echo $objs | wc -w) objects)" \
    [ "$(wc -l <"$T/edges")" -gt 20 ]
tsort "$T/edges" >/dev/null 2>"$T/loops"
check "no circle among the modules (tsort: $(tr '\n' ' ' <"$T/loops"))" [ ! -s "$T/loops" ]

check "only the forward pass includes cpu.h" sh -c \
    "[ \"\$(grep -l '#include \"cpu.h\"' src/*.c src/*.h src/*.inc | grep -v '^src/cpu\.[ch]\$' | tr '\n' ' ')\" = 'src/forward.c src/forward_paths.c ' ]"
isa='(^|_)(avx[0-9a-z]*|sse[0-9]*|neon)(_|$)'
awk '{ print $2 }' "$T/defined" | grep -E "$isa" >"$T/isa_defined"
check "no ISA-specific symbol is public but the tables ($(tr '\n' ' ' <"$T/isa_defined"))" sh -c \
    "[ \"\$(sort -u '$T/isa_defined' | tr '\n' ' ')\" = 'kernels_avx2 kernels_avx512 ' ]"
awk '{ print $1, $2 }' "$T/used" | while read -r o sym; do
    echo "$sym" | grep -qE "$isa" && echo "$o"
done | sort -u >"$T/isa_users"
check "only kernels.o names an ISA's table ($(tr '\n' ' ' <"$T/isa_users"))" \
    sh -c "[ \"\$(tr '\n' ' ' <'$T/isa_users')\" = 'kernels ' ]"

long=$(wc -l src/*.c src/*.h src/*.inc src/*.sh | awk '$2 != "total" && $1 > 800 { printf "%s (%d) ", $2, $1 }')
check "every source file has at most 800 lines${long:+; split by concern: $long}" [ -z "$long" ]
finish tests/test_structure.sh
