/* cache.c -- where resnet keeps and finds its files (see cache.h). */
#include "cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec.h"

/* An unset or empty variable counts as absent (the XDG rule). */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

int cache_dir(char *out, size_t outlen, struct err *e)
{
    const char *dir, *sub;
    if ((dir = env("RESNET_HOME")))
        sub = "";
    else if ((dir = env("XDG_CACHE_HOME")))
        sub = "/resnet";
    else if ((dir = env("HOME")))
        sub = "/.cache/resnet";
    else
        return err_set(e, "weights: none of RESNET_HOME, XDG_CACHE_HOME, HOME is set, "
                       "so there is no weight cache; name a weight file");
    /* "dir/" + "/resnet" would read oddly in messages; drop trailing slashes
     * (all of them for "/": the format puts one back). */
    size_t dl = strlen(dir);
    while (dl > 0 && dir[dl - 1] == '/')
        dl--;
    int len = snprintf(out, outlen, "%.*s%s", (int)dl, dir, sub);
    if (len < 0 || (size_t)len >= outlen)
        return err_set(e, "weights: the cache folder %.*s%s is too long", (int)dl, dir, sub);
    return 0;
}

int cache_make_dir(const char *dir, struct err *e)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return err_set(e, "cache folder %s: path too long", dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return err_set(e, "cannot create the cache folder %s (%s)", p, strerror(errno));
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

int cache_weights_path(const char *model, char *out, size_t outlen, struct err *e)
{
    if (!model || !model[0])
        return err_set(e, "weights: no model name to find a default weight file for");
    char dir[4096], shipped[4096];
    int cache = cache_dir(dir, sizeof dir, e) == 0;
    /* NAME.safetensors; NAME.h5 (a Keras file) where only that exists */
    static const char *const ext[2] = {"safetensors", "h5"};
    for (int i = 0; cache && i < 2; i++) {
        int len = snprintf(out, outlen, "%s/%s.%s", dir, model, ext[i]);
        if (len < 0 || (size_t)len >= outlen)
            return err_set(e, "weights: the default weight path for %s under %s is too long",
                           model, dir);
        if (exists(out))
            return 0;
    }
    /* then the weights shipped with the program, next to its built-in specs
     * (models/fashion_resnet20.safetensors) */
    snprintf(shipped, sizeof shipped, "%s.safetensors", model);
    if (spec_data_file(shipped, out, outlen) == 0)
        return 0;
    if (!cache)
        return err_prefix(e, "%s: ", model);
    /* none exists: name the usual one */
    snprintf(out, outlen, "%s/%s.safetensors", dir, model);
    return 0;
}
