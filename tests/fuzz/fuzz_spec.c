/* fuzz_spec.c -- JSON spec text -> spec_parse -> net_build.
 *
 * Any text is either a spec that builds into a net, or one error line naming
 * the source; never a crash, a hang or an allocation the size of a forged
 * number.  Seeds: tests/fuzz/seeds/spec (the built-in models and every key). */
#include "fuzz.h"

#include "net.h"
#include "spec.h"

static void fuzz_spec(const uint8_t *data, size_t size)
{
    /* spec_parse takes a C string, as spec_load hands it one. */
    char *json = malloc(size + 1);
    if (!json)
        return;
    memcpy(json, data, size);
    json[size] = 0;
    struct arch a;
    struct err e = {{0}};
    int rc = spec_parse(json, "fuzz.json", NULL, &a, &e);
    free(json);
    if (rc != 0) {
        FUZZ_PROMISE(rc == -1 && fuzz_one_line(e.msg, "fuzz.json"), "spec_parse: %d \"%s\"", rc, e.msg);
        return;
    }
    FUZZ_PROMISE(a.n_stages >= 1 && a.n_stages <= ARCH_MAX_STAGES && a.classes >= 1 && a.in_h >= 1 &&
                 a.in_w >= 1, "spec_parse accepted %d stages, %d classes, input %dx%d", a.n_stages,
                 a.classes, a.in_h, a.in_w);
    struct net n;
    memset(&n, 0, sizeof n);
    struct err ne = {{0}};
    rc = net_build(&a, &n, &ne);
    if (rc == 0) {
        FUZZ_PROMISE(n.n_layers >= 2 && n.params > 0, "net_build: %d layers, %ld params", n.n_layers,
                     n.params);
        for (int i = 0; i < n.n_layers; i++)
            for (int k = 0; k < n.layer[i].n_in; k++)
                FUZZ_PROMISE(n.layer[i].in[k] >= 0 && n.layer[i].in[k] < i,
                             "layer %d reads layer %d: not in topological order", i, n.layer[i].in[k]);
    } else {
        FUZZ_PROMISE(rc == -1 && fuzz_one_line(ne.msg, NULL), "net_build: %d \"%s\"", rc, ne.msg);
    }
    net_free(&n);
}

FUZZ_ENTRY(fuzz_spec)
