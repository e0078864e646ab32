/* labels.c -- class names: the built-in ImageNet-1k list, a spec's labels
 * file, or "class N" placeholders.
 *
 * The built-in list is models/imagenet_labels.txt, a labels file like any
 * other (one name per line, in output order), compiled in by
 * src/embed_labels.sh and cut into lines by the same code as a spec's file.
 * It is Caffe's synset_words.txt (ILSVRC-2012 classes in sorted-wnid order,
 * which is the order every ImageNet-1k classifier's output uses) without its
 * wnid column, all synonyms kept.  torchvision's names are the first synonym
 * of these, except where it renamed duplicates (134 "crane bird", 639
 * "maillot tank suit"). */
#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* build/imagenet_labels.c, generated from models/imagenet_labels.txt */
extern const char labels_imagenet_text[];

/* A labels file is a few tens of KiB; anything far bigger is not one. */
#define LABELS_MAX_BYTES (64L << 20)

/* The whole file, NUL-terminated, in a malloc'd buffer. */
static char *read_file(const char *path, long *size, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open labels file (%s)", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        err_set(e, "%s: cannot read labels file (%s)", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(e, "%s: labels file is not a regular file", path);
        goto done;
    }
    if (st.st_size > LABELS_MAX_BYTES) {
        err_set(e, "%s: labels file is %lld bytes; expected one class name per line", path,
                (long long)st.st_size);
        goto done;
    }
    long n = (long)st.st_size;
    buf = malloc((size_t)n + 1);
    if (!buf) {
        err_set(e, "%s: out of memory reading labels file", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        err_set(e, "%s: cannot read labels file (%s)", path,
                ferror(f) ? strerror(errno) : "file shrank while reading");
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[n] = '\0';
    *size = n;
done:
    fclose(f);
    return buf;
}

/* The lines of [p, end), one name each: counted, and with `name` also cut
 * in place into name[] (as many as there are lines).  Trailing whitespace
 * (and so the \r of CRLF files) is dropped, and a newline at the end of the
 * text does not start another, empty, name. */
static int cut_lines(char *p, char *end, const char **name)
{
    int lines = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (name) {
            char *stop = nl ? nl : end;
            while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r' ||
                                stop[-1] == '\v' || stop[-1] == '\f'))
                stop--;
            *stop = '\0';
            name[lines] = p;
        }
        lines++;
        p = nl ? nl + 1 : end;
    }
    return lines;
}

static int load_file(const struct arch *a, struct labels *l, struct err *e)
{
    long size = 0;
    char *text = read_file(a->labels, &size, e);
    if (!text)
        return -1;
    char *p = text, *end = text + size;
    /* A UTF-8 byte-order mark (Windows editors add one) is not part of the
     * first class name. */
    if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;

    int lines = cut_lines(p, end, NULL);
    if (lines != a->classes) {
        err_set(e, "%s: %d lines, but the spec has %d classes -- the labels file "
                "needs one class name per line, in output order",
                a->labels, lines, a->classes);
        free(text);
        return -1;
    }

    l->name = malloc((size_t)lines * sizeof *l->name);
    if (!l->name) {
        free(text);
        return err_set(e, "%s: out of memory for %d class names", a->labels, lines);
    }
    cut_lines(p, end, l->name);
    l->n = lines;
    l->text = text;
    return 0;
}

/* The built-in names, cut from a copy of the compiled-in text. */
static int load_imagenet(struct labels *l, struct err *e)
{
    size_t size = strlen(labels_imagenet_text);
    l->text = malloc(size + 1);
    l->name = malloc(1000 * sizeof *l->name);
    if (!l->text || !l->name) {
        labels_free(l);
        return err_set(e, "labels: out of memory");
    }
    memcpy(l->text, labels_imagenet_text, size + 1);
    int lines = cut_lines(l->text, l->text + size, NULL);
    if (lines != 1000) {
        labels_free(l);
        return err_set(e, "labels: the built-in ImageNet list has %d names, not 1000 "
                       "(models/imagenet_labels.txt holds one per line)", lines);
    }
    cut_lines(l->text, l->text + size, l->name);
    l->n = 1000;
    return 0;
}

/* "class 0" .. "class N-1", for a spec without names. */
static int load_placeholders(const struct arch *a, struct labels *l, struct err *e)
{
    enum { SLOT = 24 };                /* "class " + up to 11 digits + NUL */
    l->name = malloc((size_t)a->classes * sizeof *l->name);
    l->text = malloc((size_t)a->classes * SLOT);
    if (!l->name || !l->text) {
        labels_free(l);
        return err_set(e, "labels: out of memory for %d class names", a->classes);
    }
    for (int i = 0; i < a->classes; i++) {
        char *s = l->text + (size_t)i * SLOT;
        snprintf(s, SLOT, "class %d", i);
        l->name[i] = s;
    }
    l->n = a->classes;
    return 0;
}

int labels_load(const struct arch *a, struct labels *l, struct err *e)
{
    memset(l, 0, sizeof *l);
    if (a->classes < 1)
        return err_set(e, "labels: the spec has %d classes; need at least 1", a->classes);
    if (a->labels[0])
        return load_file(a, l, e);
    if (a->classes != 1000)
        return load_placeholders(a, l, e);
    return load_imagenet(l, e);
}

void labels_free(struct labels *l)
{
    free(l->name);
    free(l->text);
    memset(l, 0, sizeof *l);
}
