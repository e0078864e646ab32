/* spec.h -- the JSON architecture spec, parsed into a struct arch.
 *
 * A spec names a network the way the papers do (depth or blocks per stage,
 * block kind, widths, stem) plus how its input is prepared, and -- for the
 * same paper network as torchvision, timm, Keras Applications or a Keras
 * tutorial builds it -- where each of them puts the stride, the biases, the
 * padding and the shortcut, and how it names layers and weights.  Built-in
 * specs (the JSON files in models/) are compiled into the binary, so
 * `-m resnet50` needs no file.  Every validation error names the key at
 * fault.
 *
 * Every enum's zero is torchvision's choice, so a zeroed struct arch with
 * the paper fields filled in is a torchvision ResNet v1. */
#ifndef RESNET_SPEC_H
#define RESNET_SPEC_H

#include "err.h"
#include "preprocess.h"

#define ARCH_MAX_STAGES 8
#define ARCH_MAX_BLOCKS 2048   /* residual blocks over all stages */
#define ARCH_MAX_LAYERS 16   /* of a stem or head given as a list */
#define ARCH_PATH_LEN 4096
#define ARCH_NAME_LEN 64

enum block_kind { BLOCK_BASIC, BLOCK_BOTTLENECK };
enum stem_kind {
    STEM_IMAGENET,   /* 7x7/2 conv (+ BN, ReLU in v1), 3x3/2 max pool */
    STEM_CIFAR,      /* 3x3/1 conv (+ BN, ReLU in v1) */
    STEM_LAYERS,     /* arch.stem_layers */
};

/* Which conv of which block downsamples a stage (stages after the first,
 * or all but the last for STRIDE_LAST). */
enum stride_at {
    STRIDE_3X3,    /* first block, its (first) 3x3: torchvision "v1.5", timm */
    STRIDE_1X1,    /* first block, its first 1x1: Keras v1, the Keras CIFAR example */
    STRIDE_LAST,   /* last block, its 3x3, identity shortcut subsampled: Keras v2 */
};

/* Which convolutions carry a bias. */
enum bias_rule {
    BIAS_NONE,   /* torchvision, timm */
    BIAS_ALL,    /* Keras v1 and every Conv2D left at use_bias=True */
    BIAS_V2,     /* Keras v2: the stem conv, a block's last conv and its projection */
};

/* How a block's 3x3 convolutions pad. */
enum pad_style {
    PAD_EXPLICIT,   /* ZeroPadding2D(1) then 'valid', as torch pads */
    PAD_SAME,       /* padding='same', TensorFlow's rule (extra row at the bottom) */
};

/* How the imagenet stem's 3x3/2 max pool pads. */
enum pool_pad {
    POOL_ZERO,   /* ZeroPadding2D(1) then 'valid': Keras Applications */
    POOL_MIN,    /* 1 each side, padded cells never win (torch's -inf) */
    POOL_SAME,   /* padding='same', TensorFlow's rule */
};

enum shortcut_kind {
    SHORTCUT_PROJECTION,   /* 1x1 conv + BN where the shape changes */
    SHORTCUT_CONV,         /* 1x1 conv alone */
};

/* v2: what the projection reads. */
enum shortcut_from {
    FROM_PREACT,   /* the block's shared BN-ReLU: Keras v2, timm, the paper */
    FROM_INPUT,    /* the block's input: the Keras CIFAR example */
};

/* Which operand an Add lists first (Keras prints and orders by it). */
enum add_order { ADD_SHORTCUT_FIRST, ADD_RESIDUAL_FIRST };

/* Which branch the reference code creates first (numbers Keras's auto names). */
enum created_order { CREATED_SHORTCUT_FIRST, CREATED_SHORTCUT_LAST };

enum name_style {
    NAMES_APPLICATIONS,   /* conv2_block1_1_conv, ..., as Keras Applications */
    NAMES_AUTO,           /* conv2d, conv2d_1, ...: tf.keras's names for unnamed layers */
};

/* How tensors are found in a weight file.  HDF5 (Keras) files always map
 * by layer order, as Keras loads them; safetensors by name. */
enum weight_names {
    WNAMES_TORCHVISION,   /* layer1.0.conv1.weight, fc.weight */
    WNAMES_TIMM,          /* stages.0.blocks.0.conv1.weight, head.fc.weight */
    WNAMES_KERAS,         /* HDF5 by order; names only in messages */
};

/* One layer of a stem or head given as a list of objects. */
enum arch_layer_kind {
    AL_ZEROPAD, AL_CONV, AL_BN, AL_RELU, AL_MAXPOOL, AL_AVGPOOL, AL_GAP, AL_FLATTEN,
    AL_DENSE, AL_DROPOUT,
};

/* How a conv or pool window pads. */
enum window_pad {
    WPAD_VALID,   /* none */
    WPAD_SAME,    /* TensorFlow's 'same' */
    WPAD_TORCH,   /* `pad` each side: zeros for a conv (shown as ZeroPadding2D),
                   * never-winning cells for a max pool */
};

enum activation { ACT_LINEAR, ACT_RELU, ACT_SOFTMAX };

struct arch_layer {
    enum arch_layer_kind kind;
    char name[ARCH_NAME_LEN];   /* "" = named by the spec's `names` */
    int units;                  /* CONV filters, DENSE units (0 = `classes`) */
    int k, stride;              /* CONV kernel, pool size; stride */
    enum window_pad padding;
    int pad;                    /* ZEROPAD, and WPAD_TORCH: rows/cols each side */
    int bias;                   /* CONV, DENSE */
    enum activation act;        /* DENSE */
    float rate;                 /* DROPOUT, for the summary only */
};

struct arch {
    char name[ARCH_NAME_LEN];
    char model_name[ARCH_NAME_LEN]; /* what Keras's summary calls the model; "" = name */
    int version;                   /* 1 post-activation, 2 pre-activation */
    enum block_kind block;
    int n_stages;
    int stages[ARCH_MAX_STAGES];   /* residual blocks per stage */
    int widths[ARCH_MAX_STAGES];   /* bottleneck (inner) filters per stage */
    int out_widths[ARCH_MAX_STAGES]; /* block output filters; 0 = widths x expansion */
    int expansion;                 /* 0 = 4 for bottlenecks, 1 for basic blocks */
    enum stem_kind stem;
    int stem_width;                /* filters of the stem conv (named stems) */
    struct arch_layer stem_layers[ARCH_MAX_LAYERS];   /* STEM_LAYERS */
    int n_stem_layers;
    struct arch_layer head[ARCH_MAX_LAYERS];   /* after the stages; 0 layers = GAP + softmax Dense */
    int n_head;
    int classes;
    int in_h, in_w, in_c;          /* what the network sees */

    enum stride_at stride_at;
    enum bias_rule bias;
    float bn_eps;                  /* 0 = 1e-5 */
    enum pad_style padding;
    enum pool_pad pool_padding;
    enum shortcut_kind shortcut;
    enum shortcut_from shortcut_from;   /* version 2 */
    int skip_first_preact;         /* v2: the first block reuses the stem's BN-ReLU */
    enum add_order add_order;
    enum created_order created;
    enum name_style names;
    enum weight_names weight_names;

    struct preprocess pre;
    char labels[ARCH_PATH_LEN];    /* class-name file, "" = built-in ImageNet-1k */
};

/* Load a spec by built-in name ("resnet50") or by path to a .json file. */
int spec_load(const char *name_or_path, struct arch *a, struct err *e);

/* Parse spec text.  `source` names it in errors; `dir` resolves `labels`. */
int spec_parse(const char *json, const char *source, const char *dir,
               struct arch *a, struct err *e);

/* The network of the paper's table for an ImageNet depth (18..200), as
 * `resnet summary --depth N` shows it: version 1 is torchvision's layout,
 * version 2 Keras Applications' ResNetNV2 (`--depth 50 --v2`). */
int spec_from_depth(int depth, int version, struct arch *a, struct err *e);

/* Output filters of a stage's blocks. */
int arch_out_width(const struct arch *a, int stage);

/* The keys a spec may have, each a NULL-terminated list: spec_keys the
 * top-level ones ("depth", "stages", ...), spec_preprocess_keys those of the
 * "preprocess" object, spec_layer_keys those of the layer objects of a
 * "stem" or "head" list (each type takes some of them).  Every key that
 * spec_parse accepts is in one of them, for the documentation to list. */
const char *const *spec_keys(void);
const char *const *spec_preprocess_keys(void);
const char *const *spec_layer_keys(void);

/* NULL-terminated list of built-in spec names, and the text of one. */
const char *const *spec_builtin_names(void);
const char *spec_builtin_text(const char *name);

/* Find a built-in spec's companion file (its labels, shipped weights) in the
 * folders the program's data ships in: models/ beside the binary, ../models,
 * ../share/resnet.  0 with the path in out, -1 if none has it. */
int spec_data_file(const char *file, char *out, size_t outlen);

#endif
