#!/bin/sh
# embed_labels.sh -- turn models/imagenet_labels.txt into a C string, so
# resnet needs no file at run time for the ImageNet class names.
# Uses only od and sed, as embed_specs.sh does, so a minimal Debian can build it.
echo "/* generated from $1 by src/embed_labels.sh -- do not edit */"
echo 'const char labels_imagenet_text[] = {'
od -An -v -tx1 "$1" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo '0x00};'
