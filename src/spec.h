/* spec.h -- the JSON architecture spec, parsed into a struct arch.
 *
 * A spec names a network the way the papers do (depth or blocks per stage,
 * block kind, widths, stem) plus how its input is prepared.  Built-in specs
 * (the JSON files in models/) are compiled into the binary, so `-m resnet50` needs no
 * file.  Every validation error names the key at fault. */
#ifndef RESNET_SPEC_H
#define RESNET_SPEC_H

#include "err.h"

#define ARCH_MAX_STAGES 8
#define ARCH_PATH_LEN 4096

enum block_kind { BLOCK_BASIC, BLOCK_BOTTLENECK };
enum stem_kind { STEM_IMAGENET, STEM_CIFAR };

/* How an image becomes the network's input tensor (torchvision's recipe):
 * shorter side resized to `resize` (bilinear, antialiased when shrinking),
 * centre crop to the input size, value/255, then (x - mean) / std. */
struct preprocess {
    int resize;      /* target of the shorter side, pixels */
    float mean[3];   /* per RGB channel, on the 0..1 scale */
    float std[3];
};

struct arch {
    char name[64];
    int version;                   /* 1 post-activation, 2 pre-activation */
    enum block_kind block;
    int n_stages;
    int stages[ARCH_MAX_STAGES];   /* residual blocks per stage */
    int widths[ARCH_MAX_STAGES];   /* base filters per stage (x4 out for bottlenecks) */
    enum stem_kind stem;
    int stem_width;                /* filters of the stem conv */
    int classes;
    int in_h, in_w, in_c;          /* what the network sees */
    struct preprocess pre;
    char labels[ARCH_PATH_LEN];    /* class-name file, "" = built-in ImageNet-1k */
};

/* Load a spec by built-in name ("resnet50") or by path to a .json file. */
int spec_load(const char *name_or_path, struct arch *a, struct err *e);

/* Parse spec text.  `source` names it in errors; `dir` resolves `labels`. */
int spec_parse(const char *json, const char *source, const char *dir,
               struct arch *a, struct err *e);

/* The network of the paper's table for an ImageNet depth (18..200), as
 * `resnet summary --depth N` shows it. */
int spec_from_depth(int depth, struct arch *a, struct err *e);

/* NULL-terminated list of built-in spec names, and the text of one. */
const char *const *spec_builtin_names(void);
const char *spec_builtin_text(const char *name);

#endif
