/* labels.h -- class names: the built-in ImageNet-1k list or a spec's file. */
#ifndef RESNET_LABELS_H
#define RESNET_LABELS_H

#include "err.h"
#include "spec.h"

struct labels {
    int n;
    const char **name;   /* [n] */
    char *text;          /* backing store of a loaded file */
};

/* The names for a spec: its `labels` file (one per line, exactly `classes`
 * lines), the built-in list for 1000 classes (models/imagenet_labels.txt,
 * compiled in), else "class N". */
int labels_load(const struct arch *a, struct labels *l, struct err *e);
void labels_free(struct labels *l);

#endif
