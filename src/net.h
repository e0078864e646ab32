/* net.h -- a struct arch unrolled into the network's layer list.
 *
 * Layers have Keras's granularity (ZeroPadding2D, Conv2D, BatchNormalization,
 * Activation, MaxPooling2D, Add, GlobalAveragePooling2D, Dense, and for the
 * tutorials' stems and heads AveragePooling2D, Flatten, Dropout) and Keras's names
 * (conv2_block1_1_conv, or tf.keras's conv2d_1 for unnamed layers), so
 * `summary` can print the list as it is and the forward pass can fuse it.  Shapes are per image, height x width x
 * channels, as Keras prints them.  Layers come in topological order: every
 * input index is smaller than the layer's own. */
#ifndef RESNET_NET_H
#define RESNET_NET_H

#include "err.h"
#include "spec.h"

enum layer_kind {
    LAYER_INPUT,
    LAYER_ZEROPAD,   /* ZeroPadding2D */
    LAYER_CONV,      /* Conv2D; zero padding of its own (pad_*) only for padding='same' */
    LAYER_BN,        /* BatchNormalization, inference form */
    LAYER_RELU,      /* Activation('relu') */
    LAYER_MAXPOOL,   /* MaxPooling2D; padded cells of its own (pad_*) never win */
    LAYER_ADD,       /* Add of two inputs */
    LAYER_GAP,       /* GlobalAveragePooling2D */
    LAYER_DENSE,     /* Dense, optionally with ReLU or softmax */
    /* Kinds added for the Keras heads, kept last so older switches stay valid: */
    LAYER_AVGPOOL,   /* AveragePooling2D; padded cells of its own are left out of the mean */
    LAYER_FLATTEN,   /* Flatten of a NHWC tensor: feature (h * W + w) * C + c */
    LAYER_DROPOUT,   /* Dropout: the identity at inference */
};

struct layer {
    enum layer_kind kind;
    char name[64];          /* Keras-style layer name */
    char tensor[64];        /* weight prefix in the spec's scheme ("layer1.0.conv1",
                             * "stages.0.blocks.0.conv1"); the Keras layer name for Keras
                             * files, which map by order; "" if no weights */
    int in[2], n_in;        /* indices of the producing layers */
    int in_h, in_w, in_c;   /* shape of in[0] */
    int out_h, out_w, out_c;
    int flat;               /* output is (None, out_c): after a GAP or Flatten */
    int k, stride;          /* conv / pool: square kernel and stride */
    int pad_t, pad_b, pad_l, pad_r; /* ZEROPAD: rows/cols added on each side; CONV, MAXPOOL,
                             * AVGPOOL: the layer's own padding ('same', torch's pool padding) */
    int bias;               /* conv / dense carries a bias */
    int relu;               /* dense ends in ReLU */
    int softmax;            /* dense ends in softmax */
    float eps;              /* BN epsilon */
    int created;            /* rank in the reference code's construction order (Keras numbers
                             * auto names in it); a permutation of the layer indices */
    long params;            /* trainable parameters */
    long frozen;            /* non-trainable parameters (BN moving mean/var) */
    double macs;            /* multiply-adds per image */

    /* Weights, as the loader left them (NULL until loaded):
     *   CONV : w [out_c][in_c][k][k],  b [out_c] if bias
     *   DENSE: w [out_c][in_c],        b [out_c] if bias; after a FLATTEN, input
     *          feature (h * W + w) * C + c, Keras's order
     *   BN   : w = gamma [c], b = beta [c], mean [c], var [c] */
    float *w, *b, *mean, *var;
};

struct net {
    struct arch arch;
    struct layer *layer;    /* [n_layers] */
    int n_layers;
    long params, frozen;    /* totals */
    double macs;
    float *store;           /* one mapping behind every layer's weights */
    size_t store_bytes;
};

/* Unroll the architecture into layers with shapes and counts; no weights.
 * Layers come in an order the forward pass can run and fuse: each Add's
 * second operand is built after its first. */
int net_build(const struct arch *a, struct net *n, struct err *e);

/* Keras's order of the layers (model.layers, the summary's rows, and the
 * order a Keras weight file lists them in): by depth from the output,
 * deepest first, ties in the order a depth-first walk from the output
 * first meets them.  A malloc'd array of n_layers indices, or NULL when
 * out of memory. */
int *net_keras_order(const struct net *n);

/* "Conv2D", "BatchNormalization", ... as Keras's summary names the class. */
const char *net_class_name(enum layer_kind k);

/* Allocate zeroed weight storage for every layer (the loader fills it). */
int net_alloc_weights(struct net *n, struct err *e);

/* Number of floats a layer's w / b arrays hold. */
long net_weight_count(const struct layer *l);
long net_bias_count(const struct layer *l);

/* Give back the memory of weights already consumed (packed by the forward
 * pass): the pages wholly inside [p, p + bytes) read as zeros afterwards.
 * Works for any address range; a mapped file's pages are dropped too. */
void net_release(const void *p, size_t bytes);

void net_free(struct net *n);

#endif
