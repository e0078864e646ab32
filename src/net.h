/* net.h -- a struct arch unrolled into the network's layer list.
 *
 * Layers have Keras's granularity (ZeroPadding2D, Conv2D, BatchNormalization,
 * Activation, MaxPooling2D, Add, GlobalAveragePooling2D, Dense) and Keras's
 * names (conv2_block1_1_conv), so `summary` can print the list as it is and
 * the forward pass can fuse it.  Shapes are per image, height x width x
 * channels, as Keras prints them.  Layers come in topological order: every
 * input index is smaller than the layer's own. */
#ifndef RESNET_NET_H
#define RESNET_NET_H

#include "err.h"
#include "spec.h"

enum layer_kind {
    LAYER_INPUT,
    LAYER_ZEROPAD,   /* ZeroPadding2D */
    LAYER_CONV,      /* Conv2D, padding 'valid' (any padding is a ZEROPAD before it) */
    LAYER_BN,        /* BatchNormalization, inference form */
    LAYER_RELU,      /* Activation('relu') */
    LAYER_MAXPOOL,   /* MaxPooling2D, 'valid' */
    LAYER_ADD,       /* Add of two inputs */
    LAYER_GAP,       /* GlobalAveragePooling2D */
    LAYER_DENSE,     /* Dense, optionally with softmax */
};

struct layer {
    enum layer_kind kind;
    char name[64];          /* Keras-style layer name */
    char tensor[64];        /* weight-file prefix, torchvision scheme ("layer1.0.conv1"); "" if no weights */
    int in[2], n_in;        /* indices of the producing layers */
    int in_h, in_w, in_c;   /* shape of in[0] */
    int out_h, out_w, out_c;
    int k, stride;          /* conv / pool: square kernel and stride */
    int pad_t, pad_b, pad_l, pad_r; /* ZEROPAD: rows/cols added on each side */
    int bias;               /* conv / dense carries a bias */
    int softmax;            /* dense ends in softmax */
    float eps;              /* BN epsilon */
    long params;            /* trainable parameters */
    long frozen;            /* non-trainable parameters (BN moving mean/var) */
    double macs;            /* multiply-adds per image */

    /* Weights, as the loader left them (NULL until loaded):
     *   CONV : w [out_c][in_c][k][k],  b [out_c] if bias
     *   DENSE: w [out_c][in_c],        b [out_c] if bias
     *   BN   : w = gamma [c], b = beta [c], mean [c], var [c] */
    float *w, *b, *mean, *var;
};

struct net {
    struct arch arch;
    struct layer *layer;    /* [n_layers] */
    int n_layers;
    long params, frozen;    /* totals */
    double macs;
    float *store;           /* one allocation behind every layer's weights */
};

/* Unroll the architecture into layers with shapes and counts; no weights. */
int net_build(const struct arch *a, struct net *n, struct err *e);

/* Allocate zeroed weight storage for every layer (the loader fills it). */
int net_alloc_weights(struct net *n, struct err *e);

/* Number of floats a layer's w / b arrays hold. */
long net_weight_count(const struct layer *l);
long net_bias_count(const struct layer *l);

void net_free(struct net *n);

#endif
