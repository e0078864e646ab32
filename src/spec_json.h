/* spec_json.h -- typed values out of a parsed JSON spec, for spec.c.
 *
 * Each getter checks one cJSON value's type and range and, when it is
 * wrong, fills e with one line that names the spec (`src`) and the key
 * ("depth", "head[2].kernel"), then returns -1: the spec's errors all read
 * alike because they are all made here. */
#ifndef RESNET_SPEC_JSON_H
#define RESNET_SPEC_JSON_H

#include <cjson/cJSON.h>

#include "err.h"

/* An integer in [lo, hi]. */
int json_int(const cJSON *v, const char *key, int lo, int hi, int *out,
             const char *src, struct err *e);

/* An array of `min_n`..`max_n` integers in [lo, hi]; returns the count. */
int json_int_array(const cJSON *v, const char *key, int min_n, int max_n,
                   int lo, int hi, int *out, const char *src, struct err *e);

/* Three numbers (R, G, B), with `positive` all > 0. */
int json_floats3(const cJSON *v, const char *key, int positive, float *out,
                 const char *src, struct err *e);

/* One of the NULL-terminated `names`: *out is its index. */
int json_enum(const cJSON *v, const char *key, const char *const *names,
              int *out, const char *src, struct err *e);

int json_bool(const cJSON *v, const char *key, int *out, const char *src, struct err *e);

/* Every key of `obj` is one of the NULL-terminated `known`; an unknown one
 * is named as prefix + key ("preprocess.crop"). */
int json_check_keys(const cJSON *obj, const char *const *known, const char *prefix,
                    const char *src, struct err *e);

#endif
