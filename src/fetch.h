/* fetch.h -- the published weights of the built-in models, downloaded into
 * the cache and checked against the model before they are kept.
 *
 * Each built-in model has one or more weight sets (torchvision V1 and V2,
 * timm's own, Keras Applications'), each a URL, a file format and the
 * publisher's ImageNet top-1.  A download goes to NAME.SET.part in the cache
 * folder (resumed with an HTTP Range request when one is there), is loaded
 * into the model's net -- every tensor's name and shape checked -- and only
 * then renamed to NAME.safetensors (NAME.h5 for Keras files), next to a
 * sidecar NAME.<ext>.json that records the set and, where the set was
 * evaluated differently from the spec's preprocessing, how.
 *
 * The sidecar is read back by fetch_sidecar_apply whenever a weight file is
 * used, so classify evaluates each set as its publisher did. */
#ifndef RESNET_FETCH_H
#define RESNET_FETCH_H

#include <stddef.h>

#include "err.h"
#include "sha256.h"
#include "spec.h"

/* One published weight set of a built-in model. */
struct fetch_set {
    const char *model;    /* built-in spec name: "resnet50" */
    const char *set;      /* "tv2", "tv", "a1", "keras" */
    int is_default;       /* what `resnet fetch MODEL` takes */
    const char *url;
    const char *format;   /* "safetensors" or "h5" */
    double top1;          /* the publisher's ImageNet-1k top-1, % (0: none published) */
    /* the publisher's evaluation where it differs from the spec's; 0 = the spec's */
    int input;            /* square input size */
    int resize;           /* shorter side before the centre crop */
    const char *interpolation;   /* the publisher's resize filter: "bilinear", "bicubic",
                                  * "nearest" (the spec key preprocess.interpolation) */
};

/* NULL-terminated: every weight set, grouped by model, default first. */
const struct fetch_set *const *fetch_sets(void);

/* "resnet50" (its default set) or "resnet50:tv"; NULL with a reason when
 * there is no such model or set. */
const struct fetch_set *fetch_find(const char *model_colon_set, struct err *e);

struct fetch_opts {
    const char *url;      /* instead of the set's (a spec file's weights, a mirror) */
    const char *sha256;   /* NULL, or the file's SHA-256 in 64 lower-case hex digits:
                             a download with another is deleted */
    int force;            /* download again when the cache has the set */
    int progress;         /* draw a progress bar on stderr */
};

/* What one fetch did, for the caller to report. */
struct fetch_result {
    char model[ARCH_NAME_LEN];    /* the net's name */
    const struct fetch_set *set;  /* NULL: --url for a spec file */
    int already;                  /* the cache held the set: nothing downloaded */
    char path[4200];              /* where the weights now are */
    char sha256[SHA256_HEX_LEN];  /* the file's SHA-256 ("" if already there, unchecked) */
};

/* Download the weights of `model` (a built-in name, optionally ":SET", or a
 * spec file with o->url) into the cache, check them against the model's net
 * (and o->sha256) and keep them as the model's default weights, their
 * SHA-256 recorded in the sidecar; *r says what was done.  Returns -1 with
 * one line in e on a network or HTTP error, or when the file does not fit
 * the model or has another SHA-256; nothing is then left in the cache but a
 * partial download to resume. */
int fetch_model(const char *model, const struct fetch_opts *o, struct fetch_result *r,
                struct err *e);

/* The sidecar of a weight file: "PATH.json". */
int fetch_sidecar_path(const char *weights, char *out, size_t outlen);

/* If the weight file has a sidecar written for this model, apply the
 * preprocessing it records (input size, resize) to the spec.  No sidecar,
 * or one for another model: nothing changes.  -1 on an unreadable one. */
int fetch_sidecar_apply(const char *weights, struct arch *a, struct err *e);

/* The default weight set of a built-in model, or NULL. */
const struct fetch_set *fetch_default(const char *model);

#endif
