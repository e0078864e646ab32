/* spec_load.c -- where spec text comes from: the built-in specs, a .json
 * file, or a depth of the paper's table (`--depth`); spec.c parses it.
 *
 * Built-in specs are the JSON files of models/, compiled in by
 * src/embed_specs.sh; their companion files (a labels file, shipped
 * weights) are found next to the binary by spec_data_file. */
#include "spec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* build/builtin_specs.c, generated from the JSON files in models/ */
extern const struct { const char *name; const char *text; } builtin_specs[];

#define SPEC_MAX_BYTES (1 << 20)   /* a spec is a few hundred bytes; refuse monsters */

/* Read a whole (small) file into a NUL-terminated buffer. */
static char *read_text(const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(SPEC_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, SPEC_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > SPEC_MAX_BYTES) {
        err_set(e, "%s: %s", path, !buf ? "out of memory" : bad ? "read error"
                                   : "larger than 1 MiB, not a spec");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        err_set(e, "%s: contains a NUL byte, not a JSON spec", path);
        free(buf);
        return NULL;
    }
    return buf;
}

const char *spec_builtin_text(const char *name)
{
    for (int i = 0; builtin_specs[i].name; i++)
        if (!strcmp(builtin_specs[i].name, name))
            return builtin_specs[i].text;
    return NULL;
}

const char *const *spec_builtin_names(void)
{
    static const char *names[64];
    if (!names[0])
        for (int i = 0; builtin_specs[i].name && i < 63; i++)
            names[i] = builtin_specs[i].name;
    return names;
}

/* The folders that hold the built-in specs' companion files (a labels
 * file, shipped weights), relative to the running binary: models/ beside it
 * (./resnet in the source tree), ../models (the tests in build/), and
 * ../share/resnet (an installed PREFIX/bin/resnet). */
int spec_data_file(const char *file, char *out, size_t outlen)
{
    static const char *const rel[] = {"/models/", "/../models/", "/../share/resnet/"};
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        struct stat st;
        int len = snprintf(out, outlen, "%s%s%s", exe, rel[i], file);
        if (len > 0 && (size_t)len < outlen && stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
    }
    return -1;
}

int spec_load(const char *name_or_path, struct arch *a, struct err *e)
{
    const char *text = spec_builtin_text(name_or_path);
    if (text) {
        char src[128];
        snprintf(src, sizeof src, "%s (built-in spec)", name_or_path);
        /* A built-in spec's `labels` is relative to where its JSON file
         * ships (models/NAME.json), as a spec file's is to the file. */
        char json[ARCH_NAME_LEN + 8], dir[ARCH_PATH_LEN];
        snprintf(json, sizeof json, "%s.json", name_or_path);
        int found = spec_data_file(json, dir, sizeof dir) == 0;
        if (found)
            *strrchr(dir, '/') = 0;
        return spec_parse(text, src, found ? dir : NULL, a, e);
    }
    struct stat st;
    if (stat(name_or_path, &st) != 0) {
        if (!strchr(name_or_path, '/') && !strstr(name_or_path, ".json")) {
            char list[512] = "";
            const char *const *names = spec_builtin_names();
            for (int i = 0; names[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         i ? ", " : "", names[i]);
            return err_set(e, "unknown model \"%s\" (built-in: %s; or give a spec .json file)",
                           name_or_path, list);
        }
        return err_set(e, "%s: cannot open spec: %s", name_or_path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return err_set(e, "%s: is a directory, not a spec file", name_or_path);
    char *json = read_text(name_or_path, e);
    if (!json)
        return -1;
    char dir[ARCH_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", name_or_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    int rc = spec_parse(json, name_or_path, dir, a, e);
    free(json);
    return rc;
}

int spec_from_depth(int depth, int version, struct arch *a, struct err *e)
{
    char json[256];
    if (version == 2)
        /* Keras Applications' ResNet50V2 / 101V2 / 152V2 for those depths */
        snprintf(json, sizeof json, "{\"name\": \"resnet%dv2\", \"depth\": %d, \"version\": 2, "
                 "\"stride_at\": \"last\", \"bias\": \"v2\", \"bn_eps\": 1.001e-5, "
                 "\"pool_padding\": \"zero\", \"weights_names\": \"keras\"}", depth, depth);
    else
        snprintf(json, sizeof json, "{\"name\": \"resnet%d\", \"depth\": %d}", depth, depth);
    return spec_parse(json, "--depth", NULL, a, e);
}
