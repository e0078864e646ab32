#!/bin/sh
# embed_specs.sh -- turn models/*.json into a C table of built-in specs.
# Uses only od and sed so a minimal Debian can build it.
echo '/* generated from the JSON files in models/ by src/embed_specs.sh -- do not edit */'
echo '#include <stddef.h>'
names=""
for f in "$@"; do
    n=$(basename "$f" .json)
    id=$(echo "$n" | tr -c 'A-Za-z0-9\n' '_')
    echo "static const char spec_$id[] = {"
    od -An -v -tx1 "$f" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo "0x00};"
    names="$names $n:$id"
done
echo 'const struct { const char *name; const char *text; } builtin_specs[] = {'
for p in $names; do
    echo "    {\"${p%%:*}\", spec_${p#*:}},"
done
echo '    {NULL, NULL}};'
