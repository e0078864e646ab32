/* weights.h -- named tensors from weight files onto the layers of a net.
 *
 * The safetensors reader (safetensors.h) maps a file and lists its tensors,
 * the HDF5 reader (h5.h) a Keras file's layers; weights.c matches them onto
 * the layers that net.c built -- safetensors by the state_dict names of the
 * spec's scheme, Keras files by layer order -- checks every name and shape,
 * and converts them into the net's float storage and layout. */
#ifndef RESNET_WEIGHTS_H
#define RESNET_WEIGHTS_H

#include <stddef.h>

#include "err.h"
#include "net.h"

/* Allocate the net's weight storage and fill it from a weight file: a Keras
 * HDF5 file (told by its signature) by layer order, as Keras loads it; else
 * a safetensors file by the names the spec's scheme gives (torchvision,
 * timm).  Missing, unknown and misshapen tensors are errors. */
int weights_load(struct net *n, const char *path, struct err *e);

/* Whether path starts with HDF5's signature: a Keras file, which
 * weights_load reads in a forked child (h5.h). */
int weights_is_keras(const char *path);

/* Fill the net with deterministic pseudo-random weights (for `bench`
 * without a weight file: timing does not depend on the values). */
int weights_random(struct net *n, unsigned seed, struct err *e);

#endif
