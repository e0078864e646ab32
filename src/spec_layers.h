/* spec_layers.h -- a stem or head given as a list of layer objects, for
 * spec.c (spec_layers.c parses it; spec_layer_keys in spec.h lists the keys). */
#ifndef RESNET_SPEC_LAYERS_H
#define RESNET_SPEC_LAYERS_H

#include <cjson/cJSON.h>

#include "err.h"
#include "spec.h"

/* The list `arr` of key `key` ("stem", "head") into out[0 .. *n_out).  A
 * stem (`head` 0) keeps the image's height and width axes; a head ends in
 * the classifier: a Dense with softmax, after a gap or flatten has made the
 * features flat.  Errors name the layer: "head[2].kernel". */
int spec_layers_parse(const cJSON *arr, const char *key, int head, struct arch_layer *out,
                      int *n_out, const char *src, struct err *e);

#endif
