#!/bin/sh
# test_output.sh -- nothing is lost on the way out: a standard output that
# cannot be written (/dev/full) is one error line and exit status 3 from
# every command, never a silent exit 0; a closed pipe stays quiet.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
IMG=tests/images/parity

# --- /dev/full: exit 3, one line on stderr naming the error ---
full() {  # full "what" ARGS...: resnet ARGS >/dev/full exits 3 with one stderr line naming ENOSPC
    what=$1
    shift
    $R "$@" >/dev/full 2>"$T/err"
    rc=$?
    check "$what >/dev/full: exit 3, one line naming the error (exit $rc: $(head -c 120 "$T/err"))" \
        sh -c "[ $rc -eq 3 ] && [ \$(wc -l <'$T/err') -eq 1 ] \
               && grep -q '^resnet: writing to standard output: No space left on device\$' '$T/err'"
}
full "classify (text)" classify $M $IMG/chelsea.jpg
full "classify -f tsv" classify $M -f tsv $IMG/chelsea.jpg
full "classify -f json" classify $M -f json $IMG/chelsea.jpg
full "classify -b 3 of a directory" classify $M -b 3 -k 1 -f tsv $IMG
full "summary --depth 50" summary --depth 50
full "summary -m keras_resnet50" summary -m keras_resnet50
full "bench" bench $M -n 1
full "bench -f json" bench $M -n 1 -f json
full "fetch --list" fetch --list
full "calibrate" calibrate -m fashion_resnet20 -n 2 tests/images/fashion
full "--help" --help
full "--version" --version
full "classify --help" classify --help

# The run stops at the first failed write: the missing file after the
# images is never reached, so it is never reported.
$R classify $M -b 2 -f tsv $IMG "$T/missing.jpg" >/dev/full 2>"$T/err"
check "classify >/dev/full stops at the first failed write (the later missing file is not reached)" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 1 ] && ! grep -q missing.jpg '$T/err'"
# A bad image before the failure is still reported, then the write error.
$R classify $M -f tsv "$T/missing.jpg" $IMG/chelsea.jpg >/dev/full 2>"$T/err"
check "classify >/dev/full: a bad image before it reported, then the write error, exit 3" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 2 ] && head -1 '$T/err' | grep -q missing.jpg \
           && tail -1 '$T/err' | grep -q 'No space left'"
# In JSON a bad image is an object on stdout too: its line, then the write error.
$R classify $M -f json "$T/missing.jpg" >/dev/full 2>"$T/err"
check "classify -f json of a bad image >/dev/full: its error line, then the write error, exit 3" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 2 ] && tail -1 '$T/err' | grep -q 'No space left'"
# The same commands into a file that can be written: exit 0, so the 3 above is the write's.
$R classify $M -b 2 -k 1 -f tsv $IMG >"$T/out" 2>"$T/err"
check "classify into a writable file: exit 0, every image" \
    sh -c "[ $? -eq 0 ] && [ \$(wc -l <'$T/out') -eq \$(ls $IMG/*.jpg $IMG/*.png | wc -l) ] && [ ! -s '$T/err' ]"
check "summary into a writable file: exit 0" sh -c "$R summary --depth 50 >'$T/out' && [ -s '$T/out' ]"

# --- a closed pipe: quiet, with SIGPIPE ignored too (then it is EPIPE) ---
# (the second path comes after head has gone, so its result meets a closed pipe)
sh -c "trap '' PIPE; (echo $IMG/chelsea.jpg; sleep 2; echo $IMG/coffee.png) |
       { $R classify $M -f tsv -k 1 - 2>'$T/err'; echo \$? >'$T/rc'; } | head -1 >/dev/null"
check "a closed pipe with SIGPIPE ignored: nothing on stderr, exit 3 (got $(cat "$T/rc"))" \
    sh -c "[ ! -s '$T/err' ] && [ \"\$(cat '$T/rc')\" = 3 ]"

finish tests/test_output.sh
