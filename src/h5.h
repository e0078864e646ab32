/* h5.h -- the weights of a Keras HDF5 file, layer by layer, as float.
 *
 * What Keras writes (model.save_weights(), model.save() in HDF5 format, and
 * the Keras Applications downloads such as
 * resnet50_weights_tf_dim_ordering_tf_kernels.h5):
 *
 *   /                      attribute layer_names: every layer of the model in
 *                          model order, including the ones without weights
 *                          (input_1, conv1_pad, conv1_relu, avg_pool, ...);
 *                          optional backend, keras_version
 *   /<layer>               one group per layer name, attribute weight_names
 *                          (an empty float64 array when the layer has none)
 *   /<layer>/<weight name> a dataset per weight name, the name being a path
 *                          relative to the layer group: "conv1_conv/kernel:0"
 *                          is the dataset /conv1_conv/conv1_conv/kernel:0
 *
 * Variations this reader absorbs:
 * - model.save() puts all of the above under a group /model_weights (next to
 *   model_config and optimizer_weights, which are ignored).
 * - String attributes are variable-length (h5py 3 given str) or fixed-length
 *   null-padded (Keras's np.asarray(list of bytes)); null-terminated and
 *   space-padded ones are read too.
 * - An attribute longer than HDF5's 64 KiB object-header limit is split by
 *   Keras into layer_names0, layer_names1, ... (weight_names0, ...).  A
 *   ResNet-152's names take ~10 KiB, so only much bigger models have them.
 * - A weight name is the variable's name, whose prefix need not be the layer
 *   name: TensorFlow can uniquify it ("predictions_1/kernel:0" in the group
 *   predictions) or scope it under the model, and Keras 3 writes
 *   "conv1_conv/kernel" without ":0".  Match weights by h5_find_weight's
 *   leaf name or by order, never by the whole name.
 * - Keras 3 adds a group top_level_model_weights, not listed in layer_names,
 *   so not read.
 *
 * Conventions of the weights themselves (row-major, Keras's axis order):
 *   Conv2D              kernel [kh][kw][in_c][out_c] (HWIO), bias [out_c]
 *   DepthwiseConv2D     depthwise_kernel [kh][kw][in_c][multiplier]
 *   Dense               kernel [in][out] (transposed against torchvision's
 *                       [out][in]), bias [out]
 *   BatchNormalization  gamma, beta, moving_mean, moving_variance [c], in
 *                       that order (trainable before non-trainable); gamma
 *                       or beta is absent when scale / center is off.
 *                       The file does not hold epsilon: resnet_common.py
 *                       uses 1.001e-5, resnet50.py Keras's default 1e-3.
 * Names in Keras Applications:
 *   resnet_common.py (ResNet50/101/152, V2, ResNeXt): conv1_conv, conv1_bn,
 *     conv2_block1_0_conv (projection shortcut), conv2_block1_1_conv ...
 *     _3_conv, _N_bn; V2 adds conv2_block1_preact_bn and post_bn, has no
 *     conv1_bn, and its _1/_2 convolutions have no bias.  The classifier is
 *     `probs` in files written by keras-applications 1.0.8 and `predictions`
 *     in tf.keras's.
 *   resnet50.py (the first ResNet50 release): conv1, bn_conv1,
 *     res2a_branch2a, bn2a_branch2a, res2a_branch1, ..., fc1000.
 * Keras itself loads an HDF5 weight file by ORDER, not by name: the k-th
 * layer with weights in the file goes to the k-th layer with weights in the
 * model, and its weights in weight_names order.  h5_file keeps that order.
 *
 * Truncated files, wrong types and shapes are errors.  libhdf5 (1.10.8)
 * itself can crash or hang on some bit-flipped files, inside its own
 * parsing, which no check can prevent; so h5_read reads the file in a child
 * process (h5.c), and a crash or a silent child becomes one error line
 * naming the file.  libhdf5's own error printing is silenced there. */
#ifndef RESNET_H5_H
#define RESNET_H5_H

#include <stdint.h>

#include "err.h"

#define H5_MAX_DIMS 4

/* The file's weights, converted to float, may not exceed this. */
#define H5_MAX_BYTES (4ull << 30)

struct h5_weight {
    char *name;                  /* as in weight_names: "conv1_conv/kernel:0" */
    int ndim;                    /* 0 (a scalar) .. H5_MAX_DIMS */
    int64_t shape[H5_MAX_DIMS];  /* Keras's axis order, see above */
    int64_t count;               /* elements: the product of shape */
    float *data;                 /* [count], row-major (C order) */
};

struct h5_layer {
    char *name;                  /* "conv1_conv" */
    struct h5_weight *w;         /* [n_weights] in weight_names order */
    int n_weights;               /* 0 for layers without weights */
};

struct h5_file {
    const char *path;            /* as given to h5_read (not copied) */
    struct h5_layer *layer;      /* [n_layers] in layer_names order */
    int n_layers;
    int n_weighted;              /* layers with n_weights > 0 */
    int64_t total_bytes;         /* float bytes of all weights */
    int model_weights;           /* 1: found under /model_weights (model.save()) */
    char *backend;               /* "tensorflow", "theano", ...; "" if absent */
    char *keras_version;         /* "2.2.4", ...; "" if absent */
};

/* Read every layer and weight of a Keras HDF5 file.  On error, returns -1
 * with one line in e naming the file and the layer / weight at fault, and
 * leaves f empty (h5_free on it is harmless). */
int h5_read(const char *path, struct h5_file *f, struct err *e);

/* The layer of that name, or NULL. */
const struct h5_layer *h5_find_layer(const struct h5_file *f, const char *name);

/* The weight whose leaf name -- the part after the last '/', without a
 * ":<n>" suffix -- is `leaf` ("kernel", "bias", "gamma", "moving_mean"), or
 * NULL.  "conv1_conv/kernel:0", "predictions_1/kernel:0" and Keras 3's
 * "conv1_conv/kernel" all have the leaf "kernel". */
const struct h5_weight *h5_find_weight(const struct h5_layer *l, const char *leaf);

void h5_free(struct h5_file *f);

#endif
