#!/bin/sh
# test_scaleout.sh -- the README's scale-out forms, run as the README writes
# them: xargs -P, GNU parallel and tests/dask_classify.py (a Dask LocalCluster
# of worker processes), each one long-lived `resnet classify` per partition of
# paths, over a generated folder of 600 photos and 6 broken files (truncated,
# empty, not an image) on 4 workers.
#
# The three command lines are taken from README.md (and must be in
# man/resnet.1 too) and run by sh in a folder holding photos/; `resnet` on
# the PATH is a wrapper that adds `-m fashion_resnet20` (the shipped model,
# 28x28: fast) and logs each process's start and end.  For each form:
#   - every good photo exactly once in the output, and no other path;
#   - every line well formed (path, rank 1, index, probability, the index's
#     label): a line cut into by another's write would not be;
#   - the same lines as one process over the whole folder gives (the
#     command of the README's Spark form, which is not run: no Spark here);
#   - each broken file named on stderr by exactly one line, and nothing else;
#   - the exit status man/resnet.1 documents for the tool (xargs: 123 when a
#     process exits 1 or 2; parallel: the number of processes that failed;
#     dask_classify.py: the largest status);
#   - one process per partition, never more than 4 at once, and more than one.
# Then a folder of good photos only (status 0, stderr empty), an empty one,
# and a model that does not open (status 2 per process).  Last, the checks
# themselves are shown to fail on a duplicated, a dropped, an interleaved
# line and a missing or doubled error line.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
REPO=$(pwd)
PY=/usr/bin/python3
export TMPDIR="$T/tmp" PARALLEL_HOME="$T/parallel" DASK_CONFIG="$T/dask"
mkdir -p "$TMPDIR" "$T/bin"

# --- the forms, from the README ----------------------------------------------------
form() {  # form TOOL: the README's line that pipes find's paths into TOOL
    grep '^find photos ' README.md | grep -F "| $1 " | head -1
}
XARGS=$(form xargs)
PARALLEL=$(form parallel)
DASK=$(form 'python3 tests/dask_classify.py')
sed 's/\\-/-/g; s/\\e/\\/g' man/resnet.1 >"$T/man"
in_man() { [ -n "$1" ] && grep -qxF "$1" "$T/man"; }
check "README: the xargs form, the same line in man/resnet.1" in_man "$XARGS"
check "README: the GNU parallel form, the same line in man/resnet.1" in_man "$PARALLEL"
check "README: the Dask form, the same line in man/resnet.1" in_man "$DASK"
# Spark's form: the command RDD.pipe runs per partition, the same in both documents
SPARK=$(sed -n 's/.*pipe("\(resnet classify [^"]*\)").*/\1/p' README.md | head -1)
spark_documented() {
    [ -n "$SPARK" ] && grep -F "pipe(\"$SPARK\")" README.md | grep -qi untested &&
        grep -qF "pipe(\"$SPARK\")" "$T/man"
}
check "README: Spark's RDD.pipe form, said to be untested, its command the man page's" spark_documented
size_of() { printf '%s\n' "$1" | sed -n 's/.* -[nN] \([0-9][0-9]*\) .*/\1/p'; }      # paths per process
workers_of() { printf '%s\n' "$1" | sed -n 's/.* -[Pj] \([0-9][0-9]*\) .*/\1/p'; }   # processes at once

if ! $PY -c 'import PIL' 2>/dev/null; then
    skip "scale-out forms: python3-pil (to generate the photos) not installed (make deps installs it)"
    finish tests/test_scaleout.sh
fi

# --- the folder: 600 photos varied from the Fashion-MNIST fixtures, 6 broken ---------
mkdir -p "$T/run" "$T/good/photos" "$T/empty/photos"
for d in run good empty; do
    ln -s "$REPO/tests" "$T/$d/tests"   # the Dask form names tests/dask_classify.py
done
(cd "$T/run" && $PY - "$REPO/tests/images/fashion") <<'EOF'
import os, random, sys
from PIL import Image, ImageChops
src = sys.argv[1]
base = [Image.open(os.path.join(src, f)).convert("L") for f in sorted(os.listdir(src))]
rng = random.Random(13)
dirs = ["photos/2025", "photos/day two", "photos/day two/it's raw"]
for d in dirs:
    os.makedirs(d)
good, bad = [], []
for i in range(600):
    im = ImageChops.offset(base[i % len(base)], rng.randint(-3, 3), rng.randint(-3, 3))
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    path = "%s/img %04d.jpg" % (dirs[i % 3], i) if i % 7 == 0 else "%s/img%04d.jpg" % (dirs[i % 3], i)
    im.save(path, quality=rng.randint(70, 95))
    good.append(path)
for i, d in enumerate(dirs[:2]):
    data = open(good[i], "rb").read()
    for name, content in (("truncated", data[:len(data) // 3]), ("empty", b""),
                          ("notes", b"not an image\n")):
        path = "%s/%s%d.jpg" % (d, name, i)
        open(path, "wb").write(content)
        bad.append(path)
open("../good.list", "w").write("".join(p + "\n" for p in good))
open("../bad.list", "w").write("".join(p + "\n" for p in bad))
EOF
check "generated 600 photos and 6 broken files" \
    sh -c "[ \$(wc -l <'$T/good.list') -eq 600 ] && [ \$(wc -l <'$T/bad.list') -eq 6 ]"
LC_ALL=C sort "$T/good.list" -o "$T/good.list"
head -20 "$T/good.list" | while IFS= read -r p; do cp "$T/run/$p" "$T/good/photos/$(echo "$p" | tr '/ ' '__')"; done
(cd "$T/good" && find photos -name '*.jpg') | LC_ALL=C sort >"$T/good20.list"

# `resnet` as the forms call it: the shipped small model ($MODEL, to make it
# fail), each process's start and end appended to $T/procs (one write each,
# O_APPEND: in the order they happened).
cat >"$T/bin/resnet" <<EOF
#!/bin/sh
cmd=\$1
shift
echo + >>"$T/procs"
"$REPO/resnet" "\$cmd" -m "\${MODEL:-fashion_resnet20}" "\$@"
status=\$?
echo - >>"$T/procs"
exit \$status
EOF
chmod +x "$T/bin/resnet"
ln -s $PY "$T/bin/python3"   # the README's python3 is Debian's, which has Dask
export PATH="$T/bin:$PATH"

# --- the checks ------------------------------------------------------------------------
each_once() {  # each_once OUT LIST: the output's paths are LIST's (sorted), each exactly once
    cut -f1 "$1" | LC_ALL=C sort | cmp -s - "$2"
}
well_formed() {  # well_formed OUT: path, rank 1, index, probability, the index's label
    awk -F'\t' -v labels=models/fashion_labels.txt '
        BEGIN { while ((getline l < labels) > 0) name[n++] = l }
        NF != 5 || $1 !~ /^photos\/.*\.jpg$/ || $2 != 1 || $3 !~ /^[0-9]$/ ||
        $4 !~ /^(0\.[0-9]+|1)$/ || $5 != name[$3] { bad = 1 }
        END { exit bad || NR == 0 }' "$1"
}
same_lines() {  # same_lines OUT REF: the same lines, in any order
    LC_ALL=C sort "$1" | cmp -s - "$2"
}
reported() {  # reported ERR LIST: each path named by exactly one "resnet: PATH: reason" line, no other line
    while IFS= read -r p; do
        [ "$(grep -cF "resnet: $p: " "$1")" -eq 1 ] || return 1
    done <"$2"
    [ "$(wc -l <"$1")" -eq "$(wc -l <"$2")" ]
}
fails() { ! "$@"; }
procs() {  # procs LOG: "STARTED MOST-AT-ONCE ENDED" from the wrapper's log
    awk '$0 == "+" { s++; if (++r > m) m = r } $0 == "-" { r--; e++ } END { print s + 0, m + 0, e + 0 }' "$1"
}
procs_ok() {  # procs_ok LOG N WORKERS: N processes started and ended, 2 to WORKERS at once
    set -- $(procs "$1") "$2" "$3"
    [ "$1" -eq "$4" ] && [ "$3" -eq "$4" ] && [ "$2" -ge 2 ] && [ "$2" -le "$5" ]
}
good_only() {  # good_only NAME: status 0, nothing on stderr, each of the 20 photos once
    [ "$status" -eq 0 ] && [ ! -s "$T/$1.err" ] && each_once "$T/$1.out" "$T/good20.list"
}
run() {  # run NAME DIR FORM: FORM by sh in DIR, under a time limit; $T/NAME.out, .err, .procs, $status
    : >"$T/procs"
    (cd "$2" && timeout -k 10 120 sh -c "$3") >"$T/$1.out" 2>"$T/$1.err"
    status=$?
    cp "$T/procs" "$T/$1.procs"
}
# exit status of each tool, as man/resnet.1 documents it, for a run whose
# processes exit with $1 (0, 1, or 2 for all of them)
parallel_status() {  # GNU parallel: the number of processes that failed
    case $1 in
    0) echo 0 ;;
    # the partitions (of $2 paths, in find's order) that hold a broken file
    1) (cd "$T/run" && find photos -name '*.jpg') | awk -v n="$2" 'NR == FNR { bad[$0]; next }
           ($0 in bad) && !(int((FNR - 1) / n) in p) { p[int((FNR - 1) / n)]; c++ } END { print c + 0 }' \
           "$T/bad.list" - ;;
    2) echo "$3" ;;
    esac
}
expect_status() {  # expect_status TOOL PROCESS-STATUS SIZE PROCESSES
    case $1 in
    xargs) [ "$2" -eq 0 ] && echo 0 || echo 123 ;;
    parallel) parallel_status "$2" "$3" "$4" ;;
    dask) echo "$2" ;;
    esac
}

# One process over the whole folder: the lines every form must give.  It is
# the command of Spark's form (Spark itself is not installed), all the paths
# one partition, written one per line as RDD.pipe writes them.
(cd "$T/run" && find photos -name '*.jpg' | timeout 120 sh -c "$SPARK") >"$T/one.out" 2>"$T/one.err"
status=$?
check "one process (Spark's command): exit status 1 (broken files; got $status)" [ $status -eq 1 ]
check "one process: every good photo once" each_once "$T/one.out" "$T/good.list"
check "one process: every line well formed" well_formed "$T/one.out"
check "one process: each broken file reported on stderr, nothing else" reported "$T/one.err" "$T/bad.list"
LC_ALL=C sort "$T/one.out" >"$T/one.sorted"
total=$(($(wc -l <"$T/good.list") + $(wc -l <"$T/bad.list")))

scale_out() {  # scale_out TOOL FORM: the contract of one form, on every folder
    tool=$1 f=$2 size=$(size_of "$2") workers=$(workers_of "$2")
    if [ -z "$size" ] || [ -z "$workers" ]; then
        check "$tool: the form gives paths per process (-n, -N) and processes at once (-P, -j)" false
        return
    fi
    want=$(( (total + size - 1) / size ))
    check "$tool: the form's partitions keep its $workers workers busy ($want of $size paths)" \
        [ "$workers" -eq 4 -a "$want" -gt "$workers" ]

    run "$tool" "$T/run" "$f"
    exp=$(expect_status "$tool" 1 "$size" "$want")
    check "$tool: exit status $exp with broken files (got $status)" [ "$status" -eq "$exp" ]
    check "$tool: every good photo exactly once ($(wc -l <"$T/$tool.out") lines)" \
        each_once "$T/$tool.out" "$T/good.list"
    check "$tool: every line well formed, none cut into by another" well_formed "$T/$tool.out"
    check "$tool: the same lines as one process" same_lines "$T/$tool.out" "$T/one.sorted"
    check "$tool: each broken file named on stderr by one line, nothing else" \
        reported "$T/$tool.err" "$T/bad.list"
    set -- $(procs "$T/$tool.procs")
    check "$tool: one process per partition of $size, 2 to $workers at once ($1 started, $3 ended, of $want; most at once $2)" \
        procs_ok "$T/$tool.procs" "$want" "$workers"

    run "$tool-good" "$T/good" "$f"
    check "$tool: only good photos: exit status 0 (got $status), each of the 20 once, stderr empty" \
        good_only "$tool-good"
    run "$tool-empty" "$T/empty" "$f"
    check "$tool: no photos: exit status 0, no output, no process (got $status)" \
        sh -c "[ $status -eq 0 ] && [ ! -s '$T/$tool-empty.out' ] && [ ! -s '$T/$tool-empty.err' ] && \
               [ ! -s '$T/$tool-empty.procs' ]"
    # Dask's rule for 2 is the same max() as for 1, and each run starts a cluster
    [ "$tool" = dask ] && return
    export MODEL=no_such_model
    run "$tool-model" "$T/run" "$f"
    unset MODEL
    exp=$(expect_status "$tool" 2 "$size" "$want")
    check "$tool: a model that does not open: exit status $exp (got $status), no output" \
        sh -c "[ $status -eq $exp ] && [ ! -s '$T/$tool-model.out' ] && \
               [ \$(grep -c no_such_model '$T/$tool-model.err') -eq $want ]"
}

scale_out xargs "$XARGS"
if parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
    scale_out parallel "$PARALLEL"
else
    skip "GNU parallel form: Debian's parallel not installed (make deps installs it)"
fi
if $PY -c 'import distributed' 2>/dev/null; then
    scale_out dask "$DASK"
else
    skip "Dask form: python3-distributed not installed (make deps installs it)"
fi

# --- the checks can fail: on the one process's output, which passed them, doctored ------
{ cat "$T/one.out"; head -1 "$T/one.out"; } >"$T/dup"
sed 1d "$T/one.out" >"$T/drop"
awk 'NR == 1 { a = $0; next } NR == 2 { print substr(a, 1, 15) $0; print substr(a, 16); next } { print }' \
    "$T/one.out" >"$T/cut"
check "the checks catch a duplicated line" fails each_once "$T/dup" "$T/good.list"
check "the checks catch a dropped line" fails each_once "$T/drop" "$T/good.list"
check "the checks catch a line cut into by another" fails well_formed "$T/cut"
check "the checks catch a line cut into by another (against one process)" fails same_lines "$T/cut" "$T/one.sorted"
sed 1d "$T/one.err" >"$T/err1"
{ cat "$T/one.err"; head -1 "$T/one.err"; } >"$T/err2"
check "the checks catch a broken file not reported" fails reported "$T/err1" "$T/bad.list"
check "the checks catch a broken file reported twice" fails reported "$T/err2" "$T/bad.list"
printf '+\n+\n+\n+\n+\n-\n-\n-\n-\n-\n' >"$T/five"
printf '+\n-\n+\n-\n+\n-\n+\n-\n+\n-\n' >"$T/serial"
check "the checks catch 5 processes at once where 4 may run" fails procs_ok "$T/five" 5 4
check "the checks catch processes run one after another" fails procs_ok "$T/serial" 5 4
check "the checks catch a process more than the partitions" fails procs_ok "$T/serial" 4 4

finish tests/test_scaleout.sh
