/* test_labels.c -- the built-in ImageNet names and label files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "labels.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    struct arch a = {0};
    struct labels l;
    struct err e = {""};
    a.classes = 1000;
    CHECK(labels_load(&a, &l, &e) == 0 && l.n == 1000,
          "1000 classes without a file use the 1000 built-in names (%d) %s", l.n, e.msg);
    if (l.n == 1000) {
        CHECK(!strcmp(l.name[0], "tench, Tinca tinca"), "index 0 is the tench");
        CHECK(!strcmp(l.name[281], "tabby, tabby cat"), "index 281 is \"tabby, tabby cat\"");
        CHECK(!strcmp(l.name[999], "toilet tissue, toilet paper, bathroom tissue"),
              "index 999 is toilet tissue");
        int all = 1;
        for (int i = 0; i < 1000; i++)
            all &= l.name[i] && l.name[i][0];
        CHECK(all, "1000 non-empty built-in names");

        /* The compiled-in text is the file, read as any spec's labels file. */
        struct arch f = {0};
        struct labels fl;
        f.classes = 1000;
        snprintf(f.labels, sizeof f.labels, "models/imagenet_labels.txt");
        int same = labels_load(&f, &fl, &e) == 0 && fl.n == 1000;
        for (int i = 0; same && i < 1000; i++)
            same = !strcmp(fl.name[i], l.name[i]);
        CHECK(same, "the built-in names are models/imagenet_labels.txt, line by line %s",
              e.msg);
        labels_free(&fl);
    }
    labels_free(&l);
    a.classes = 3;
    CHECK(labels_load(&a, &l, &e) == 0 && l.n == 3 && !strcmp(l.name[2], "class 2"),
          "other class counts without a file print \"class N\"");
    labels_free(&l);

    char dir[] = "/tmp/resnet-labels-XXXXXX";
    if (!mkdtemp(dir))
        return CHECK_DONE();
    snprintf(a.labels, sizeof a.labels, "%s/l.txt", dir);
    write_file(a.labels, "cat\r\ndog\r\nbird\r\n");
    CHECK(labels_load(&a, &l, &e) == 0 && l.n == 3 && !strcmp(l.name[0], "cat") &&
              !strcmp(l.name[2], "bird"),
          "CRLF label file");
    labels_free(&l);
    write_file(a.labels, "cat\ndog\nbird");
    CHECK(labels_load(&a, &l, &e) == 0 && !strcmp(l.name[2], "bird"), "no final newline");
    labels_free(&l);
    write_file(a.labels, "cat\ndog\n");
    CHECK(labels_load(&a, &l, &e) == -1 && strstr(e.msg, "l.txt") && strstr(e.msg, "2") &&
              strstr(e.msg, "3"),
          "too few lines: %s", e.msg);
    unlink(a.labels);
    CHECK(labels_load(&a, &l, &e) == -1 && strstr(e.msg, "l.txt"), "missing file: %s", e.msg);
    rmdir(dir);
    return CHECK_DONE();
}
