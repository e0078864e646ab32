/* safetensors.h -- the tensors of a .safetensors file, by name.
 *
 * st_open maps the file and checks its JSON header; each tensor is then a
 * name, a dtype, a shape and a pointer into the mapping.  Nothing here
 * knows about networks: weights.c matches these tensors onto a net's
 * layers, and the tests read their expected outputs with it. */
#ifndef RESNET_SAFETENSORS_H
#define RESNET_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ST_MAX_DIMS 8

enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL, ST_OTHER };

struct st_tensor {
    char *name;
    enum st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const unsigned char *data;   /* inside the mapping, little-endian */
    size_t nbytes;
};

struct st_file {
    const char *path;
    unsigned char *map;          /* the whole file, read-only mapping */
    size_t size;
    struct st_tensor *tensor;    /* [n] in header order */
    int n;
};

/* Map a .safetensors file and validate its header (offsets inside the file,
 * sizes that agree with dtype x shape).  Errors name the file and tensor. */
int st_open(const char *path, struct st_file *f, struct err *e);
const struct st_tensor *st_find(const struct st_file *f, const char *name);
void st_close(struct st_file *f);

#endif
