# lib.sh -- what every shell test shares; source it from the repo root:
#   cd "$(dirname "$0")/.." && . tests/lib.sh
# Each check prints one PASS or FAIL line; `finish` prints the closing
# "# tests/NAME.sh: N passed, N failed" and exits 0 only if all passed.
R=./resnet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The weight cache (and the packed weights classify keeps there) of a test
# run is its own, never the user's.
export RESNET_HOME="$T/home"
pass=0
fail=0

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

status_is() {  # status_is N command...: the command exits with status N ($T/out, $T/err keep its output)
    want=$1
    shift
    "$@" >"$T/out" 2>"$T/err"
    [ $? -eq "$want" ]
}

finish() {  # finish NAME: the closing line and the exit status
    echo "# $1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}
