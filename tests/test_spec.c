/* test_spec.c -- the JSON spec parser and the network it unrolls into:
 * built-in specs, the depth tables, where each layout (torchvision, timm,
 * Keras Applications v1 and v2, the Keras tutorials) puts its strides,
 * biases, paddings, shortcuts and names, and one clear error per bad spec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net.h"
#include "spec.h"

/* Parse `json`; expect failure with `needle` in the message. */
static void bad(const char *json, const char *needle)
{
    struct arch a;
    struct err e = {""};
    int rc = spec_parse(json, "t.json", ".", &a, &e);
    CHECK(rc == -1 && strstr(e.msg, needle) && strstr(e.msg, "t.json"),
          "bad spec rejected: \"%s\"", e.msg);
}

static const struct layer *find(const struct net *n, const char *name)
{
    for (int i = 0; i < n->n_layers; i++)
        if (!strcmp(n->layer[i].name, name))
            return &n->layer[i];
    return NULL;
}

static void builtins(void)
{
    const char *const *names = spec_builtin_names();
    int count = 0;
    for (int i = 0; names[i]; i++, count++) {
        struct arch a;
        struct net n;
        struct err e = {""};
        int ok = spec_load(names[i], &a, &e) == 0 && net_build(&a, &n, &e) == 0;
        CHECK(ok && !strcmp(a.name, names[i]), "built-in %s parses and builds (%s)", names[i],
              e.msg);
        if (ok)
            net_free(&n);
    }
    CHECK(count >= 9, "%d built-in specs", count);
}

static void depths(void)
{
    struct arch a;
    struct err e;
    CHECK(spec_from_depth(50, 1, &a, &e) == 0 && a.block == BLOCK_BOTTLENECK && a.n_stages == 4 &&
              a.stages[2] == 6 && a.widths[3] == 512,
          "depth 50 -> bottleneck [3,4,6,3], widths to 512");
    CHECK(spec_from_depth(200, 1, &a, &e) == 0 && a.stages[1] == 24 && a.stages[2] == 36,
          "depth 200 -> [3,24,36,3]");
    CHECK(spec_from_depth(34, 1, &a, &e) == 0 && a.block == BLOCK_BASIC && a.stages[2] == 6,
          "depth 34 -> basic [3,4,6,3]");
    CHECK(spec_parse("{\"depth\": 56, \"stem\": \"cifar\"}", "c", ".", &a, &e) == 0 &&
              a.block == BLOCK_BASIC && a.n_stages == 3 && a.stages[0] == 9 && a.widths[0] == 16 &&
              a.in_h == 32 && a.classes == 10,
          "cifar depth 56 -> basic 3 x 9, widths 16.., 32x32, 10 classes");
    CHECK(spec_parse("{\"depth\": 164, \"stem\": \"cifar\", \"block\": \"bottleneck\"}", "c",
                     ".", &a, &e) == 0 &&
              a.block == BLOCK_BOTTLENECK && a.stages[0] == 18,
          "cifar depth 164 bottleneck -> 3 x 18 (9n+2)");
    CHECK(spec_parse("{\"depth\": 29, \"stem\": \"cifar\"}", "c", ".", &a, &e) == 0 &&
              a.block == BLOCK_BOTTLENECK && a.stages[0] == 3,
          "cifar depth 29 (only 9n+2) -> bottleneck 3 x 3");
    /* 101 is 9n+2 too: a stem given as layers takes the ImageNet row of a
     * depth in the table unless depth_rule says cifar */
    static const char layer_stem[] =
        "\"stem\": [{\"type\": \"conv\", \"filters\": 8, \"kernel\": 3, \"padding\": \"same\"}], "
        "\"block\": \"bottleneck\", \"depth\": 101";
    char json[512];
    snprintf(json, sizeof json, "{%s}", layer_stem);
    CHECK(spec_parse(json, "c", ".", &a, &e) == 0 && a.n_stages == 4 && a.stages[2] == 23 &&
              a.in_h == 224,
          "layer stem, depth 101 -> the ImageNet row [3,4,23,3], 224x224");
    snprintf(json, sizeof json, "{%s, \"depth_rule\": \"cifar\"}", layer_stem);
    CHECK(spec_parse(json, "c", ".", &a, &e) == 0 && a.n_stages == 3 && a.stages[0] == 11 &&
              a.stages[2] == 11 && a.widths[0] == 16 && a.in_h == 32 && a.classes == 10,
          "layer stem, depth 101, depth_rule cifar -> bottleneck 3 x 11 (9n+2), cifar defaults");
    CHECK(spec_parse("{\"depth\": 50, \"stem\": \"cifar\", \"depth_rule\": \"imagenet\"}", "c",
                     ".", &a, &e) == 0 &&
              a.n_stages == 4 && a.stages[2] == 6 && a.in_h == 224,
          "cifar stem, depth_rule imagenet -> the table's [3,4,6,3]");
    CHECK(spec_parse("{\"block\": \"basic\", \"stages\": [1, 2, 1, 1, 1], \"widths\": [8, 8, 16, "
                     "16, 32], \"input\": [96, 128, 3], \"classes\": 7}",
                     "c", ".", &a, &e) == 0 &&
              a.n_stages == 5 && a.in_w == 128 && a.classes == 7,
          "any number of stages, non-square input");
}

static void shapes(void)
{
    struct arch a;
    struct net n;
    struct err e;
    if (spec_load("resnet50", &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "resnet50 builds: %s", e.msg);
        return;
    }
    const struct layer *l = find(&n, "conv5_block3_out");
    CHECK(l && l->out_h == 7 && l->out_w == 7 && l->out_c == 2048, "resnet50 ends at 7x7x2048");
    l = find(&n, "pool1_pool");
    CHECK(l && l->out_h == 56 && l->out_c == 64, "resnet50 stem pools to 56x56x64");
    l = find(&n, "conv3_block1_2_conv");
    CHECK(l && l->stride == 2 && l->k == 3 && !strcmp(l->tensor, "layer2.0.conv2"),
          "stride on the 3x3 of a bottleneck (torchvision v1.5), tensor layer2.0.conv2");
    l = find(&n, "conv3_block1_0_conv");
    CHECK(l && l->stride == 2 && !strcmp(l->tensor, "layer2.0.downsample.0"),
          "projection shortcut is layer2.0.downsample.0, stride 2");
    CHECK(find(&n, "conv2_block1_0_conv") && !find(&n, "conv2_block2_0_conv"),
          "projection only where the shape changes");
    l = &n.layer[n.n_layers - 1];
    CHECK(l->kind == LAYER_DENSE && l->out_c == 1000 && l->in_c == 2048 && !strcmp(l->tensor, "fc"),
          "classifier fc 2048 -> 1000");
    CHECK(n.params == 25557032 && n.frozen == 53120, "resnet50 params %ld + %ld", n.params, n.frozen);
    int topo = 1;
    for (int i = 0; i < n.n_layers; i++)
        for (int j = 0; j < n.layer[i].n_in; j++)
            topo &= n.layer[i].in[j] < i;
    CHECK(topo, "layers are in topological order");
    net_free(&n);

    if (spec_load("resnet20_cifar", &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "resnet20_cifar builds: %s", e.msg);
        return;
    }
    l = find(&n, "conv4_block3_out");
    CHECK(l && l->out_h == 8 && l->out_c == 64, "resnet20_cifar ends at 8x8x64");
    CHECK(n.params == 272474, "resnet20_cifar (projection shortcuts) params %ld", n.params);
    net_free(&n);
}


/* Build a built-in net; NULL (after a FAIL line) if it does not. */
static struct net *built(const char *name)
{
    static struct net n;
    struct arch a;
    struct err e = {""};
    if (spec_load(name, &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "%s builds: %s", name, e.msg);
        return NULL;
    }
    return &n;
}

static const char *input_name(const struct net *n, const struct layer *l, int j)
{
    return l && j < l->n_in ? n->layer[l->in[j]].name : "";
}

static void keras_v1(void)
{
    struct net *n = built("keras_resnet50");
    if (!n)
        return;
    const struct layer *l = find(n, "conv3_block1_1_conv");
    CHECK(l && l->k == 1 && l->stride == 2 && l->bias, "keras v1: stride on the first 1x1 "
          "of a stage's first block, with a bias");
    l = find(n, "conv3_block1_0_conv");
    CHECK(l && l->stride == 2 && l->bias && find(n, "conv3_block1_0_bn"),
          "keras v1: the projection strides too, conv + BN");
    l = find(n, "conv3_block1_2_conv");
    CHECK(l && l->stride == 1 && l->pad_t == 1 && l->pad_b == 1 && l->out_h == 28 &&
              !find(n, "conv3_block1_2_pad"),
          "keras v1: the 3x3 pads 'same' itself, no ZeroPadding2D");
    l = find(n, "conv1_conv");
    CHECK(l && l->bias && l->pad_t == 0 && find(n, "conv1_pad") && find(n, "pool1_pad"),
          "keras v1: explicit ZeroPadding2D before the stem conv and the max pool");
    l = find(n, "conv2_block1_1_bn");
    CHECK(l && l->eps == 1.001e-5f, "keras v1: BN epsilon 1.001e-5 (%g)", l ? l->eps : 0);
    l = &n->layer[n->n_layers - 1];
    CHECK(!strcmp(l->name, "predictions") && !strcmp(l->tensor, "predictions"),
          "keras v1: the classifier is `predictions`, which the Keras scheme also calls its "
          "weights");
    net_free(n);

    /* the tutorial's ResNet-50: the same layers, tf.keras's auto names */
    if (!(n = built("tutorial_resnet50")))
        return;
    l = find(n, "conv2d_1");
    CHECK(l && l->k == 1 && l->out_c == 256 && !strcmp(input_name(n, l, 0), "max_pooling2d"),
          "tutorial resnet50: conv2d_1 is the first projection (created before the branch)");
    CHECK(find(n, "batch_normalization_52") && !find(n, "batch_normalization_53") &&
              find(n, "add_15") && !find(n, "add_16") && find(n, "activation_48"),
          "tutorial resnet50: 53 BNs, 16 Adds, 49 Activations, numbered from zero");
    l = &n->layer[n->n_layers - 1];
    CHECK(!strcmp(l->name, "dense") && !strcmp(input_name(n, l, 0), "global_average_pooling2d"),
          "tutorial resnet50: dense after global_average_pooling2d");
    net_free(n);
}

static void keras_v2(void)
{
    struct net *n = built("keras_resnet50v2");
    if (!n)
        return;
    const struct layer *l = find(n, "conv2_block3_2_conv");
    CHECK(l && l->stride == 2 && l->out_h == 28 && !l->bias,
          "keras v2: the last block of stage 0 strides, on its 3x3 (no bias)");
    l = find(n, "max_pooling2d");
    CHECK(l && l->k == 1 && l->stride == 2 && !strcmp(input_name(n, l, 0), "conv2_block2_out"),
          "keras v2: its identity shortcut is MaxPooling2D(1, strides=2) of the block input");
    CHECK(find(n, "max_pooling2d_2") && !find(n, "max_pooling2d_3"),
          "keras v2: three strided blocks, the last stage keeps its size");
    l = find(n, "conv2_block1_0_conv");
    CHECK(l && l->bias && !strcmp(input_name(n, l, 0), "conv2_block1_preact_relu") &&
              !find(n, "conv2_block1_0_bn"),
          "keras v2: projection from the shared preact, bias, no BN");
    l = find(n, "conv2_block1_1_conv");
    const struct layer *l3 = find(n, "conv2_block1_3_conv");
    CHECK(l && !l->bias && l3 && l3->bias, "keras v2: no bias on the first 1x1, one on the last");
    l = find(n, "conv2_block1_out");
    CHECK(l && l->kind == LAYER_ADD && !find(n, "conv2_block1_add"),
          "keras v2: a block ends in the Add `_out`, no ReLU");
    l = find(n, "conv1_conv");
    CHECK(l && l->bias && !find(n, "conv1_bn") &&
              !strcmp(input_name(n, find(n, "pool1_pad"), 0), "conv1_conv"),
          "keras v2: the stem conv has a bias, no BN, and is zero-padded un-rectified into the "
          "pool");
    CHECK(find(n, "post_bn") && find(n, "post_relu") &&
              !strcmp(input_name(n, find(n, "avg_pool"), 0), "post_relu"),
          "keras v2: post_bn, post_relu before the pooling");
    net_free(n);

    /* timm's resnetv2_50: stride first, torch padding, timm names */
    if (!(n = built("timm_resnetv2_50")))
        return;
    l = find(n, "conv3_block1_2_conv");
    CHECK(l && l->stride == 2 && !l->bias && !strcmp(l->tensor, "stages.1.blocks.0.conv2"),
          "timm v2: stride on the first block's 3x3, tensor stages.1.blocks.0.conv2");
    l = find(n, "conv3_block1_0_conv");
    CHECK(l && !strcmp(l->tensor, "stages.1.blocks.0.downsample.conv"),
          "timm v2: projection stages.1.blocks.0.downsample.conv");
    l = find(n, "conv3_block1_preact_bn");
    CHECK(l && !strcmp(l->tensor, "stages.1.blocks.0.norm1") &&
              !strcmp(find(n, "conv3_block1_1_bn")->tensor, "stages.1.blocks.0.norm2"),
          "timm v2: the preact is norm1, conv1's BN norm2");
    l = find(n, "pool1_pool");
    CHECK(l && l->pad_t == 1 && l->pad_b == 1 && l->out_h == 56 && !find(n, "pool1_pad") &&
              !strcmp(find(n, "conv1_conv")->tensor, "stem.conv"),
          "timm v2: stem.conv, then a max pool padded by 1 of its own (-inf)");
    CHECK(!strcmp(find(n, "post_bn")->tensor, "norm") &&
              !strcmp(n->layer[n->n_layers - 1].tensor, "head.fc"),
          "timm v2: final norm, head.fc");
    net_free(n);
}

static void tutorials(void)
{
    struct net *n = built("tutorial_cifar_resnet34");
    if (!n)
        return;
    const struct layer *l = find(n, "conv2d");
    /* ZeroPadding2D(3) then 'same': 38 -> 19, padded 5 = 2 top + 3 bottom */
    CHECK(l && l->in_h == 38 && l->out_h == 19 && l->pad_t == 2 && l->pad_b == 3 &&
              l->pad_l == 2 && l->pad_r == 3 && l->bias,
          "tutorial resnet34: ZeroPadding2D(3) and a 'same' 7x7/2 conv both pad");
    l = find(n, "max_pooling2d");
    CHECK(l && l->out_h == 10 && l->pad_t == 1 && l->pad_b == 1, "tutorial resnet34: 'same' "
          "3x3/2 max pool 19 -> 10");
    l = find(n, "add_3");
    CHECK(l && !strcmp(input_name(n, l, 0), "batch_normalization_8") &&
              !strcmp(input_name(n, l, 1), "conv2d_9"),
          "tutorial resnet34: Add([residual, shortcut]), the 1x1 shortcut created last, no BN");
    l = find(n, "conv2d_7");
    CHECK(l && l->stride == 2 && l->out_h == 5 && l->pad_t == 0 && l->pad_b == 1,
          "tutorial resnet34: 'same' 3x3/2 on 10x10 pads only the bottom and right");
    l = find(n, "flatten");
    CHECK(l && l->flat && l->out_c == 512 && l->kind == LAYER_FLATTEN, "tutorial resnet34: "
          "average_pooling2d 2x2 'same' -> flatten 512");
    l = find(n, "dense");
    CHECK(l && l->relu && l->out_c == 512 && l->bias, "tutorial resnet34: Dense(512, relu)");
    net_free(n);

    /* Keras's examples/cifar10_resnet.py resnet_v2, and the ResNetV2
     * tutorial's changes to it: 32 filters in, not 16; Dropout(0.2) after
     * the stem's ReLU; Dense(512)-BN-Dropout(0.5) before the classifier */
    for (int tut = 0; tut < 2; tut++) {
        const char *what = tut ? "tutorial cifar v2" : "keras example cifar v2";
        const char *stem_out = tut ? "dropout" : "activation";
        int f = tut ? 32 : 16;
        if (!(n = built(tut ? "tutorial_resnetv2_cifar" : "keras_example_resnetv2_cifar")))
            return;
        l = find(n, "dropout");
        CHECK(tut ? l && !strcmp(input_name(n, l, 0), "activation") && l->out_c == f &&
                        l->out_h == 32 && !l->params
                  : !l,
              "%s: %s", what, tut ? "the stem is conv-BN-ReLU-Dropout" : "no dropout");
        l = find(n, "conv2d_1");
        CHECK(l && !strcmp(input_name(n, l, 0), stem_out) && l->bias && l->in_c == f,
              "%s: the first unit skips its preact, reading the stem's %s", what, stem_out);
        l = find(n, "conv2d_4");
        CHECK(l && l->k == 1 && l->out_c == 4 * f && !strcmp(input_name(n, l, 0), stem_out),
              "%s: projection from the unit's input, created after the branch", what);
        /* stage 0: 4 convs in unit 0, 3 in each of the other 5 */
        l = find(n, "conv2d_20");
        CHECK(l && l->k == 1 && l->stride == 2 && l->out_c == 4 * f && l->in_c == 4 * f,
              "%s: stage 1 strides on its first 1x1, %d -> %d inner", what, 4 * f, 4 * f);
        l = find(n, "conv2d_22");
        CHECK(l && l->out_c == 8 * f, "%s: stage 1 out width %d (2x its input, not 4x)", what,
              8 * f);
        const struct layer *last = &n->layer[n->n_layers - 1];
        if (tut)
            CHECK(find(n, "dense") && find(n, "batch_normalization_55") &&
                      !find(n, "batch_normalization_56") && !find(n, "dropout_2") &&
                      !strcmp(last->name, "dense_1") &&
                      !strcmp(input_name(n, last, 0), "dropout_1") &&
                      !strcmp(input_name(n, find(n, "dropout_1"), 0), "batch_normalization_55"),
                  "%s: BN-ReLU-pool-flatten-dense-BN-dropout_1-dense_1 head", what);
        else
            CHECK(find(n, "batch_normalization_54") && !find(n, "batch_normalization_55") &&
                      !strcmp(last->name, "dense") && !strcmp(input_name(n, last, 0), "flatten") &&
                      last->in_c == 16 * f,
                  "%s: BN-ReLU-pool-flatten-dense head", what);
        net_free(n);
    }

    /* Any 9n+2 depth: the tutorial's spec with depth 101 (a depth of the
     * ImageNet table too) is 3 stages of 11 units, by its depth_rule */
    char json[4096];
    struct arch a;
    struct err e = {""};
    const char *text = spec_builtin_text("tutorial_resnetv2_cifar");
    const char *at = text ? strstr(text, "\"depth\": 56,") : NULL;
    if (at)
        snprintf(json, sizeof json, "%.*s\"depth\": 101,%s", (int)(at - text), text,
                 at + strlen("\"depth\": 56,"));
    static struct net deep;
    int ok = at && spec_parse(json, "t.json", ".", &a, &e) == 0 && net_build(&a, &deep, &e) == 0;
    CHECK(ok && a.n_stages == 3 && a.stages[0] == 11 && a.stages[2] == 11 &&
              find(&deep, "conv2d_102") && !find(&deep, "conv2d_103") &&
              find(&deep, "conv2d_102")->out_h == 8 && find(&deep, "add_32") &&
              !find(&deep, "add_33"),
          "tutorial cifar v2 at depth 101: 3 x 11 units, 103 convs, 33 adds (%s)", e.msg);
    if (ok)
        net_free(&deep);

    if (!(n = built("resnet164v2_cifar")))
        return;
    l = find(n, "conv2_block1_preact_bn");
    CHECK(l && !strcmp(input_name(n, l, 0), "conv1_conv") && !find(n, "conv1_bn") &&
              n->layer[n->n_layers - 1].in_c == 256,
          "preact cifar 164: the stem conv feeds the first preact; 256 features");
    net_free(n);
}

static void errors(void)
{
    bad("{\"depth\": 50, \"colour\": 1}", "unknown key \"colour\"");
    bad("{\"depth\": \"50\"}", "\"depth\" must be an integer");
    bad("{\"depth\": 42}", "depth\" is 42");
    bad("{\"depth\": 21, \"stem\": \"cifar\", \"block\": \"basic\"}", "6n+2");
    bad("{\"depth\": 56, \"depth_rule\": \"imagenet\"}", "not in the ImageNet table");
    bad("{\"depth\": 56, \"depth_rule\": \"paper\"}", "\"depth_rule\" is \"paper\"");
    bad("{\"block\": \"basic\", \"stages\": [2], \"depth_rule\": \"cifar\"}",
        "the spec has no \"depth\"");
    bad("{\"block\": \"basic\", \"stages\": [2, -1]}", "\"stages[1]\" is -1");
    bad("{\"block\": \"basic\", \"stages\": []}", "\"stages\" has 0 entries");
    bad("{\"block\": \"basic\", \"stages\": [2, 2], \"widths\": [8]}", "\"widths\" has 1 entries");
    bad("{\"block\": \"wide\", \"stages\": [2]}", "\"block\" is \"wide\"");
    bad("{\"stages\": [2]}", "needs \"block\"");
    bad("{\"depth\": 50, \"stages\": [2]}", "both given");
    bad("{\"depth\": 18, \"block\": \"bottleneck\"}", "contradicts");
    bad("{\"name\": 5, \"depth\": 18}", "\"name\" must be");
    bad("{\"depth\": 50, \"version\": 3}", "\"version\" is 3");
    bad("{\"depth\": 50, \"classes\": 0}", "\"classes\" is 0");
    bad("{\"depth\": 50, \"input\": [224, 224]}", "\"input\" has 2 entries");
    bad("{\"depth\": 50, \"input\": [224, 224, 4]}", "4 channels");
    bad("{\"depth\": 50, \"preprocess\": {\"mean\": [1, 2]}}", "\"preprocess.mean\"");
    bad("{\"depth\": 50, \"preprocess\": {\"std\": [1, 0, 1]}}", "\"preprocess.std[1]\" must be positive");
    bad("{\"depth\": 50, \"preprocess\": {\"crop\": 200}}", "\"preprocess.crop\" is 200");
    bad("{\"depth\": 50, \"preprocess\": {\"flip\": true}}", "unknown key \"preprocess.flip\"");
    bad("{\"depth\": 50, \"labels\": \"no-such-labels.txt\"}", "no-such-labels.txt");
    bad("{\"depth\": 50, \"stages\": 1.5}", "both given");
    bad("{\"block\": \"basic\", \"stages\": [1.5]}", "must be an integer");
    bad("{\n  \"depth\": 50,\n  \"stem\": \"imagenet\"\n  \"classes\": 10\n}", "invalid JSON at line 4");
    bad("{\"depth\": 50, \"preprocess\": {\"resize\": 2544444444444444444444444446}}",
        "\"preprocess.resize\" is 2.54444e+27");
    bad("{\"block\": \"basic\", \"stages\": [1024, 1024, 1024], \"stem\": \"cifar\"}",
        "3072 residual blocks");
    bad("{\"depth\": 50, \"col\nour\": 1}", "unknown key \"col\\nour\"");
    bad("[1, 2]", "must be a JSON object");
    bad("", "invalid JSON at line 1");

    /* layouts */
    bad("{\"depth\": 50, \"stride_at\": \"middle\"}", "\"stride_at\" is \"middle\"");
    bad("{\"depth\": 18, \"stride_at\": \"1x1\"}", "basic blocks have no 1x1");
    bad("{\"depth\": 50, \"shortcut_from\": \"input\"}", "applies to version 2");
    bad("{\"depth\": 50, \"first_preact\": false}", "applies to version 2");
    bad("{\"depth\": 50, \"version\": 2, \"first_preact\": 0}", "\"first_preact\" must be true or false");
    bad("{\"depth\": 50, \"version\": 2, \"weights_names\": \"torchvision\"}", "no pre-activation");
    bad("{\"depth\": 50, \"bn_eps\": 0}", "\"bn_eps\" must be");
    bad("{\"depth\": 50, \"expansion\": 2, \"out_widths\": [1, 2, 3, 4]}", "both given");
    bad("{\"depth\": 50, \"out_widths\": [1, 2]}", "\"out_widths\" has 2 entries");
    bad("{\"depth\": 50, \"names\": \"keras\"}", "\"names\" is \"keras\"");
    bad("{\"depth\": 50, \"model_name\": \"\"}", "\"model_name\" must be");
    /* stem and head lists */
    bad("{\"depth\": 50, \"stem\": 7}", "\"stem\" must be");
    bad("{\"depth\": 50, \"stem\": []}", "\"stem\" must be a list of 1 to");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"relu\"}]}", "needs at least one conv");
    bad("{\"depth\": 50, \"stem\": [{\"filters\": 3}]}", "\"stem[0]\" needs a \"type\"");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"conv\", \"kernel\": 3}]}", "\"stem[0].filters\" is missing");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"conv\", \"filters\": 8, \"kernel\": 3, \"size\": 1}]}",
        "unknown key \"stem[0].size\"");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"conv\", \"filters\": 8, \"kernel\": 3, \"padding\": \"full\"}]}",
        "\"stem[0].padding\" is \"full\"");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"conv\", \"filters\": 8, \"kernel\": 3}, {\"type\": \"gap\"}]}",
        "does not belong in a stem");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"conv\", \"filters\": 8, \"kernel\": 3}], \"stem_width\": 8}",
        "\"stem_width\" applies to a named stem");
    bad("{\"depth\": 50, \"stem\": [{\"type\": \"maxpool\", \"pool\": 3, \"padding\": 2}]}",
        "under half");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"gap\"}]}", "must end in the classifier");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"dense\"}]}", "needs a gap or flatten before it");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"gap\"}, {\"type\": \"avgpool\", \"pool\": 2}, {\"type\": \"dense\"}]}",
        "already flat");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"gap\"}, {\"type\": \"dense\", \"activation\": \"relu\"}]}",
        "must be \"softmax\"");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"gap\"}, {\"type\": \"dense\"}, {\"type\": \"dense\"}]}",
        "\"head[1]\": a hidden dense layer needs \"units\"");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"gap\"}, {\"type\": \"dropout\", \"rate\": 1.5}, {\"type\": \"dense\"}]}",
        "\"head[1].rate\" must be");
    bad("{\"depth\": 50, \"head\": [{\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 10, \"activation\": \"tanh\"}]}",
        "\"head[1].activation\" is \"tanh\"");
    /* preprocessing */
    bad("{\"depth\": 50, \"preprocess\": {\"mode\": \"inception\"}}", "\"preprocess.mode\" is \"inception\"");
    bad("{\"depth\": 50, \"preprocess\": {\"mode\": \"caffe\", \"mean\": [1, 2, 3]}}", "applies to mode \"torch\"");
    bad("{\"depth\": 50, \"preprocess\": {\"fit\": \"stretch\", \"resize\": 256}}", "applies to fit \"crop\"");
    bad("{\"depth\": 50, \"preprocess\": {\"fit\": \"squash\"}}", "\"preprocess.fit\" is \"squash\"");
    bad("{\"depth\": 50, \"preprocess\": {\"interpolation\": \"lanczos\"}}",
        "\"preprocess.interpolation\" is \"lanczos\"");

    struct arch a;
    struct err e = {""};
    struct net n;
    /* torchvision's Resize is bilinear, Keras's load_img nearest, unless the spec says */
    CHECK(spec_parse("{\"depth\": 18}", "t.json", ".", &a, &e) == 0 && a.pre.interp == PRE_BILINEAR,
          "interpolation: bilinear by default%s", e.msg);
    CHECK(spec_parse("{\"depth\": 18, \"preprocess\": {\"fit\": \"stretch\"}}", "t.json", ".", &a, &e) == 0 &&
              a.pre.interp == PRE_NEAREST, "interpolation: nearest by default for fit stretch%s", e.msg);
    CHECK(spec_parse("{\"depth\": 18, \"preprocess\": {\"fit\": \"stretch\", \"interpolation\": \"bicubic\"}}",
                     "t.json", ".", &a, &e) == 0 && a.pre.interp == PRE_BICUBIC,
          "interpolation: bicubic when the spec says%s", e.msg);
    CHECK(spec_load("timm_resnetv2_50", &a, &e) == 0 && a.pre.interp == PRE_BICUBIC && a.pre.resize == 235,
          "timm_resnetv2_50: bicubic, as timm's pretrained config says%s", e.msg);
    CHECK(spec_parse("{\"depth\": 18, \"names\": \"auto\", \"head\": [{\"type\": \"gap\"}, "
                     "{\"type\": \"dense\", \"name\": \"conv2d\"}]}", "t.json", ".", &a, &e) == 0 &&
              net_build(&a, &n, &e) == -1 && strstr(e.msg, "two layers are named conv2d"),
          "a spec's layer name that an auto name also takes is refused: %s", e.msg);
    CHECK(spec_load("tests/no-such-spec.json", &a, &e) == -1 && strstr(e.msg, "no-such-spec.json"),
          "missing spec file: %s", e.msg);
    CHECK(spec_load("resnet51", &a, &e) == -1 && strstr(e.msg, "unknown model \"resnet51\""),
          "unknown model name: %s", e.msg);
    CHECK(spec_load("tests", &a, &e) == -1 && strstr(e.msg, "directory"), "directory: %s", e.msg);
}

/* A key list: how many, whether one appears twice, whether `want` is in it. */
static int list_ok(const char *const *keys, const char *want1, const char *want2, int *n)
{
    int dup = 0, has1 = 0, has2 = 0;
    for (*n = 0; keys[*n]; (*n)++) {
        for (int j = 0; j < *n; j++)
            dup |= !strcmp(keys[j], keys[*n]);
        has1 |= !strcmp(keys[*n], want1);
        has2 |= !strcmp(keys[*n], want2);
    }
    return *n > 0 && !dup && has1 && has2;
}

/* The key lists for the documentation: complete, and each key in them is
 * one that spec_parse knows (a wrong value is an error about the value). */
static void key_lists(void)
{
    int n;
    CHECK(list_ok(spec_keys(), "depth", "stages", &n),
          "spec_keys: %d keys, none twice, \"depth\" and \"stages\" among them", n);
    CHECK(list_ok(spec_preprocess_keys(), "resize", "mode", &n),
          "spec_preprocess_keys: %d keys, none twice, \"resize\" and \"mode\" among them", n);
    CHECK(list_ok(spec_layer_keys(), "type", "filters", &n),
          "spec_layer_keys: %d keys, none twice, \"type\" and \"filters\" among them", n);
    struct arch a;
    struct err e;
    int known = 1;
    char json[256];
    for (const char *const *k = spec_keys(); *k; k++) {
        snprintf(json, sizeof json, "{\"depth\": 18, \"%s\": null}", *k);
        e.msg[0] = 0;
        known &= spec_parse(json, "t.json", ".", &a, &e) == 0 || !strstr(e.msg, "unknown key");
    }
    for (const char *const *k = spec_preprocess_keys(); *k; k++) {
        snprintf(json, sizeof json, "{\"depth\": 18, \"preprocess\": {\"%s\": {}}}", *k);
        known &= spec_parse(json, "t.json", ".", &a, &e) == -1 && !strstr(e.msg, "unknown key");
    }
    CHECK(known, "every listed key is one that spec_parse knows");
    CHECK(spec_parse("{\"depth\": 18, \"blocks\": 1}", "t.json", ".", &a, &e) == -1 &&
              strstr(e.msg, "unknown key \"blocks\""),
          "a key not listed is unknown: %s", e.msg);
}

/* Whether a line of `man` documents `key`: an item of its own (".B key"),
 * or, for the layer objects' keys, a word of a macro line (".RB ( pad ),"). */
static int documented(const char *man, const char *key, int as_item)
{
    size_t kl = strlen(key);
    for (const char *l = man; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (l[0] != '.')
            continue;
        size_t len = strcspn(l, "\n");
        if (as_item) {
            if (!strncmp(l, ".B ", 3) && len == 3 + kl && !strncmp(l + 3, key, kl))
                return 1;
            continue;
        }
        for (const char *p = l; p + kl <= l + len; p++)
            if (!strncmp(p, key, kl) && p[-1] == ' ' && (p[kl] == ' ' || p[kl] == ',' ||
                                                        p[kl] == '\n'))
                return 1;
    }
    return 0;
}

/* man/resnet-spec.5, the spec format's reference, documents every key. */
static void man_page(void)
{
    FILE *f = fopen("man/resnet-spec.5", "rb");
    static char man[1 << 17];
    size_t n = f ? fread(man, 1, sizeof man - 1, f) : 0;
    if (f)
        fclose(f);
    man[n] = 0;
    CHECK(n > 1000 && n < sizeof man - 1, "man/resnet-spec.5 read (%zu bytes)", n);
    const struct {
        const char *what;
        const char *const *keys;
        int as_item;
    } lists[] = {{"key", spec_keys(), 1}, {"preprocess key", spec_preprocess_keys(), 1},
                 {"layer key", spec_layer_keys(), 0}};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        for (const char *const *k = lists[i].keys; *k; k++)
            CHECK(documented(man, *k, lists[i].as_item), "resnet-spec(5) documents the %s %s",
                  lists[i].what, *k);
}

int main(void)
{
    key_lists();
    man_page();
    builtins();
    depths();
    shapes();
    keras_v1();
    keras_v2();
    tutorials();
    errors();
    return CHECK_DONE();
}
