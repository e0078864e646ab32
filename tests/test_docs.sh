#!/bin/sh
# test_docs.sh -- the documents describe the program that was built:
#   - every option `resnet COMMAND --help` lists, and every command, is in
#     man/resnet.1 (the complete reference) and named in the README's tour
#     (that man/resnet-spec.5 documents every spec key is test_spec.c's check);
#   - every built-in model `resnet --help` lists is named in man/resnet.1;
#   - README.md stays a newcomer's document: at most 15 KB, its two
#     quick-start commands present, its links to the other documents live.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh

# The man page as text: groff's \- is a plain hyphen here.
sed 's/\\-/-/g' man/resnet.1 >"$T/man"
has_option() {  # has_option OPTION FILE: the option as a word of its own
    grep -qE -- "(^|[^-A-Za-z0-9])$1([^-A-Za-z0-9]|\$)" "$2"
}
commands=$($R --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check "resnet --help lists the commands ($(echo $commands))" [ "$(echo $commands | wc -w)" -ge 4 ]
for c in $commands; do
    check "command $c: in resnet.1 and in the README" sh -c \
        "grep -q '^\\.B.* $c\\b\\|^\\.SS $c\\b' man/resnet.1 && grep -q 'resnet $c' README.md"
    # "  -m, --model NAME" and "      --no-cache": the option words of the help
    $R "$c" --help | grep -E '^ +-' | grep -oE '(^| )--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^ //' |
        sort -u >"$T/opts.$c"
    check "$c --help lists options ($(wc -l <"$T/opts.$c"))" [ -s "$T/opts.$c" ]
    while read -r o; do
        check "$c $o: in resnet.1" has_option "$o" "$T/man"
        case $o in --*) check "$c $o: in the README" has_option "$o" README.md ;; esac
    done <"$T/opts.$c"
done

# The built-in models --help lists after its "See resnet(1)" line, each named
# in resnet.1's list of them; a name inside another (resnet50 in
# keras_resnet50) does not count.
models=$($R --help | awk 'on { print } /^See resnet\(1\)/ { on = 1 }')
check "resnet --help lists the built-in models ($(echo $models | wc -w))" \
    [ "$(echo $models | wc -w)" -ge 20 ]
for m in $models; do
    check "built-in model $m: in resnet.1" \
        grep -qE "(^|[^_A-Za-z0-9])$m([^_A-Za-z0-9]|\$)" "$T/man"
done

size=$(wc -c <README.md)
check "README.md is at most 15 KB ($size bytes)" [ "$size" -le 15360 ]
check "README: the quick start's two commands" sh -c \
    "grep -q 'make demo' README.md && grep -q 'make deps test' README.md"
for doc in man/resnet.1 man/resnet-spec.5 bench/README.md tests/README.md src/resnet.h; do
    check "README points to $doc, which exists" sh -c "[ -f '$doc' ] && grep -q '$doc' README.md"
done
finish tests/test_docs.sh
