# lib.sh -- what every shell test shares; source it from the repo root:
#   cd "$(dirname "$0")/.." && . tests/lib.sh
# Each check prints one PASS or FAIL line, each skip one SKIP line with its
# reason; `finish` prints the closing "# tests/NAME.sh: N passed, N failed,
# N skipped" and exits 0 only if none failed.
R=./resnet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The weight cache (and the packed weights classify keeps there) of a test
# run is its own, never the user's.
export RESNET_HOME="$T/home"
export RESNET_TUNE=off   # the kernels' own cuts, as in run.sh
pass=0
fail=0
skipped=0

check() {  # check "what" command...: PASS when the command succeeds
    what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "PASS $what"
        pass=$((pass + 1))
    else
        echo "FAIL $what"
        fail=$((fail + 1))
    fi
}

skip() {  # skip "what did not run, and why": counted, and shown by run.sh
    echo "SKIP $1"
    skipped=$((skipped + 1))
}

status_is() {  # status_is N command...: the command exits with status N ($T/out, $T/err keep its output)
    want=$1
    shift
    "$@" >"$T/out" 2>"$T/err"
    [ $? -eq "$want" ]
}

tsv_close() {  # tsv_close A B K TOL: two `classify -f tsv` outputs of one -k: the same images in
               # the same order, the same top-K classes, every probability within TOL
    paste "$1" "$2" | awk -F'\t' -v k="$3" -v tol="$4" '
        { n++; d = $4 - $9; if (d < 0) d = -d }
        $1 != $6 || $2 != $7 || ($2 <= k && $3 != $8) || d > tol { bad = 1; exit }
        END { exit bad || !n }'
}

finish() {  # finish NAME: the closing line and the exit status
    echo "# $1: $pass passed, $fail failed, $skipped skipped"
    [ "$fail" -eq 0 ]
    exit $?
}
