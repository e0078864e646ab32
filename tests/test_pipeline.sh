#!/bin/sh
# test_pipeline.sh -- a folder of real photos and broken files through
# `resnet classify`, as a user's photo folder is.
#
# tests/images/mixed/ (made by tests/make_photo_fixtures.py) holds ok_*
# photographs of many sizes, encodings, colour types and EXIF orientations,
# each of which must be classified, and bad_* files (truncated, empty, not an
# image, corrupt, a header claiming 100000x100000 pixels), each of which must
# be reported on stderr and in the JSON output; the exit status is then 1.
# The folder itself is classified too, with and without -r.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
DIR=tests/images/mixed

# The word the error of each bad file must contain.
reason() {
    case $1 in
    bad_truncated.*) echo "truncated" ;;
    bad_empty.*) echo "empty" ;;
    bad_notes.txt) echo "not a JPEG or PNG" ;;
    bad_animation.gif) echo "GIF" ;;
    bad_corrupt.jpg) echo "JPEG" ;;
    bad_huge.*) echo "too large" ;;
    *) echo "?" ;;
    esac
}

# JSON line of one path in $1 (exact path match).
line_of() {
    grep -F "{\"path\":\"$2\"," "$1"
}

# --- every file named on the command line -------------------------------------
$R classify $M -f json $DIR/* >"$T/out" 2>"$T/err"
status=$?
check "files: exit status 1 when some images fail (got $status)" [ $status -eq 1 ]
n_files=$(ls $DIR | wc -l)
check "files: one JSON line per file ($n_files)" [ "$(wc -l <"$T/out")" -eq "$n_files" ]
for f in $DIR/ok_*; do
    check "files: $(basename "$f") classified" sh -c "grep -F '{\"path\":\"$f\",\"top\":[{' '$T/out'"
done
for f in $DIR/bad_*; do
    word=$(reason "$(basename "$f")")
    check "files: $(basename "$f") reported in JSON (\"$word\")" \
        sh -c "grep -F '{\"path\":\"$f\",\"error\":' '$T/out' | grep -qF '$word'"
    check "files: $(basename "$f") reported on stderr" sh -c "grep -F '$f' '$T/err' | grep -qF '$word'"
done
check "files: stderr holds one line per bad file and nothing else" \
    [ "$(wc -l <"$T/err")" -eq "$(ls $DIR/bad_* | wc -l)" ]
ls -d $DIR/* >"$T/order"
check "files: results in command-line order" sh -c \
    "sed 's/^{\"path\":\"\\([^\"]*\\)\".*/\\1/' '$T/out' | diff -q - '$T/order'"

# A phone's portrait photo stored sideways with EXIF orientation 8 is turned
# upright: the same picture as the upright file, so the same probabilities.
up=$(line_of "$T/out" $DIR/ok_chelsea_upright.png | sed 's/^.*"top"//')
side=$(line_of "$T/out" $DIR/ok_chelsea_exif8.png | sed 's/^.*"top"//')
check "EXIF orientation 8 photo classifies exactly as the upright one" [ -n "$up" -a "$up" = "$side" ]

# The text format lists the same images, and the errors only on stderr.
$R classify $M $DIR/ok_astronaut.jpg $DIR/bad_huge.png >"$T/text" 2>"$T/terr"
status=$?
check "text: exit status 1, the good photo printed, the huge one on stderr" sh -c \
    "[ $status -eq 1 ] && head -1 '$T/text' | grep -qx '$DIR/ok_astronaut.jpg' && \
     ! grep -q bad_huge '$T/text' && grep -q 'bad_huge.png.*too large' '$T/terr'"

# Only good photos: exit status 0.
$R classify $M -f tsv $DIR/ok_* >"$T/tsv" 2>"$T/tsverr"
status=$?
check "only good photos: exit status 0, nothing on stderr" sh -c "[ $status -eq 0 ] && [ ! -s '$T/tsverr' ]"

# --max-pixels: the limit is the user's.
$R classify $M --max-pixels 40000 -f json $DIR/ok_astronaut.jpg $DIR/ok_hubble_large.jpg >"$T/mp" 2>"$T/mperr"
status=$?
check "--max-pixels 40000: the 200x200 photo passes, the 640x558 one is too large" sh -c \
    "[ $status -eq 1 ] && grep -q 'ok_astronaut.jpg\",\"top\"' '$T/mp' && \
     grep -q 'ok_hubble_large.jpg\",\"error\".*too large' '$T/mp'"

# --- the folder itself ----------------------------------------------------------
$R classify $M -f json $DIR >"$T/dout" 2>"$T/derr"
status=$?
check "directory: exit status 1 when some images fail (got $status)" [ $status -eq 1 ]
for f in $DIR/*; do
    name=$(basename "$f")
    case $name in
    ok_*)
        check "directory: $name classified" sh -c "grep -qF '{\"path\":\"$f\",\"top\":[{' '$T/dout'" ;;
    *)
        # A file that starts like a JPEG or PNG is a broken image and is
        # reported; anything else is not an image and is skipped.
        if head -c 8 "$f" | od -An -tx1 | grep -qE '^ *(ff d8 ff|89 50 4e 47)'; then
            check "directory: $name reported" sh -c \
                "grep -F '{\"path\":\"$f\",\"error\":' '$T/dout' | grep -qF '$(reason "$name")'"
        else
            check "directory: $name skipped (not an image by content)" sh -c "! grep -qF '$f' '$T/dout' '$T/derr'"
        fi ;;
    esac
done
check "directory: results in sorted order" sh -c \
    "sed 's/^{\"path\":\"\\([^\"]*\\)\".*/\\1/' '$T/dout' > '$T/dorder' && LC_ALL=C sort -c '$T/dorder'"

# -r: a folder of folders.
mkdir -p "$T/photos/trip/day2"
cp $DIR/ok_astronaut.jpg "$T/photos/a.jpg"
cp $DIR/ok_tiny.png "$T/photos/trip/b.png"
cp $DIR/ok_rocket_cmyk.jpg "$T/photos/trip/day2/c.jpg"
cp $DIR/bad_notes.txt "$T/photos/trip/notes.txt"
$R classify $M -f tsv "$T/photos" >"$T/flat" 2>&1
check "directory without -r: only its own images" sh -c \
    "[ \$(cut -f1 '$T/flat' | sort -u | wc -l) -eq 1 ] && grep -q 'photos/a.jpg' '$T/flat'"
$R classify $M -r -f tsv "$T/photos" >"$T/deep" 2>"$T/deeperr"
status=$?
check "directory with -r: the images of every level, exit status 0" sh -c \
    "[ $status -eq 0 ] && [ \$(cut -f1 '$T/deep' | sort -u | wc -l) -eq 3 ] && grep -q 'day2/c.jpg' '$T/deep'"

finish tests/test_pipeline.sh
