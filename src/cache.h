/* cache.h -- where resnet keeps and finds its files.
 *
 * One folder holds what `resnet fetch` downloads and what later processes
 * reuse (packed/, packed_cache.h): $RESNET_HOME, else $XDG_CACHE_HOME/resnet,
 * else ~/.cache/resnet.  A model's default weight file is looked for there
 * first, then among the files shipped with the program. */
#ifndef RESNET_CACHE_H
#define RESNET_CACHE_H

#include <stddef.h>

#include "err.h"

/* The cache folder (it need not exist yet). */
int cache_dir(char *out, size_t outlen, struct err *e);

/* mkdir -p dir (the cache folder and those under it). */
int cache_make_dir(const char *dir, struct err *e);

/* The default weight file of a model: in the cache, NAME.safetensors, or
 * NAME.h5 (Keras) when that exists and NAME.safetensors does not; else the
 * weights shipped next to the built-in specs (spec_data_file), if any; else
 * the cache's NAME.safetensors (which does not exist: for the message). */
int cache_weights_path(const char *model, char *out, size_t outlen, struct err *e);

#endif
