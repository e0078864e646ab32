/* weights.h -- named tensors from weight files onto the layers of a net.
 *
 * The safetensors reader (safetensors.c) maps a file and lists its tensors,
 * the HDF5 reader (h5.c) a Keras file's layers; weights.c matches them onto
 * the layers that net.c built -- safetensors by the state_dict names of the
 * spec's scheme, Keras files by layer order -- checks every name and shape,
 * and converts them into the net's float storage and layout. */
#ifndef RESNET_WEIGHTS_H
#define RESNET_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "net.h"

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

/* Allocate the net's weight storage and fill it from a weight file: a Keras
 * HDF5 file (told by its signature) by layer order, as Keras loads it; else
 * a safetensors file by the names the spec's scheme gives (torchvision,
 * timm).  Missing, unknown and misshapen tensors are errors. */
int weights_load(struct net *n, const char *path, struct err *e);

/* Fill the net with deterministic pseudo-random weights (for `bench`
 * without a weight file: timing does not depend on the values). */
int weights_random(struct net *n, unsigned seed, struct err *e);

#endif
