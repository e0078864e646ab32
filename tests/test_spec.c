/* test_spec.c -- the JSON spec parser and the network it unrolls into:
 * built-in specs, the depth tables, and one clear error per bad spec. */
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
    CHECK(spec_from_depth(50, &a, &e) == 0 && a.block == BLOCK_BOTTLENECK && a.n_stages == 4 &&
              a.stages[2] == 6 && a.widths[3] == 512,
          "depth 50 -> bottleneck [3,4,6,3], widths to 512");
    CHECK(spec_from_depth(200, &a, &e) == 0 && a.stages[1] == 24 && a.stages[2] == 36,
          "depth 200 -> [3,24,36,3]");
    CHECK(spec_from_depth(34, &a, &e) == 0 && a.block == BLOCK_BASIC && a.stages[2] == 6,
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

static void errors(void)
{
    bad("{\"depth\": 50, \"colour\": 1}", "unknown key \"colour\"");
    bad("{\"depth\": \"50\"}", "\"depth\" must be an integer");
    bad("{\"depth\": 42}", "depth\" is 42");
    bad("{\"depth\": 21, \"stem\": \"cifar\", \"block\": \"basic\"}", "6n+2");
    bad("{\"block\": \"basic\", \"stages\": [2, -1]}", "\"stages[1]\" is -1");
    bad("{\"block\": \"basic\", \"stages\": []}", "\"stages\" has 0 entries");
    bad("{\"block\": \"basic\", \"stages\": [2, 2], \"widths\": [8]}", "\"widths\" has 1 entries");
    bad("{\"block\": \"wide\", \"stages\": [2]}", "\"block\" is \"wide\"");
    bad("{\"stages\": [2]}", "needs \"block\"");
    bad("{\"depth\": 50, \"stages\": [2]}", "both given");
    bad("{\"depth\": 18, \"block\": \"bottleneck\"}", "contradicts");
    bad("{\"name\": 5, \"depth\": 18}", "\"name\" must be");
    bad("{\"depth\": 50, \"version\": 2}", "not yet supported");
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
    bad("[1, 2]", "must be a JSON object");
    bad("", "invalid JSON at line 1");

    struct arch a;
    struct err e = {""};
    CHECK(spec_load("tests/no-such-spec.json", &a, &e) == -1 && strstr(e.msg, "no-such-spec.json"),
          "missing spec file: %s", e.msg);
    CHECK(spec_load("resnet51", &a, &e) == -1 && strstr(e.msg, "unknown model \"resnet51\""),
          "unknown model name: %s", e.msg);
    CHECK(spec_load("tests", &a, &e) == -1 && strstr(e.msg, "directory"), "directory: %s", e.msg);
}

int main(void)
{
    builtins();
    depths();
    shapes();
    errors();
    return CHECK_DONE();
}
