/* spec_json.c -- typed values out of a parsed JSON spec (see spec_json.h). */
#include "spec_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int json_int(const cJSON *v, const char *key, int lo, int hi, int *out,
             const char *src, struct err *e)
{
    if (!cJSON_IsNumber(v))
        return err_set(e, "%s: key \"%s\" must be an integer", src, key);
    /* Range first: converting a huge double to an integer type is undefined. */
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi))
        return err_set(e, "%s: key \"%s\" is %g, must be between %d and %d", src,
                       key, d, lo, hi);
    if (d != floor(d))
        return err_set(e, "%s: key \"%s\" must be an integer, got %g", src, key, d);
    *out = (int)d;
    return 0;
}

int json_int_array(const cJSON *v, const char *key, int min_n, int max_n,
                   int lo, int hi, int *out, const char *src, struct err *e)
{
    if (!cJSON_IsArray(v))
        return err_set(e, "%s: key \"%s\" must be an array of integers", src, key);
    int n = cJSON_GetArraySize(v);
    if (n < min_n || n > max_n)
        return err_set(e, "%s: key \"%s\" has %d entries, must have %d to %d", src,
                       key, n, min_n, max_n);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        char name[64];
        snprintf(name, sizeof name, "%s[%d]", key, i);
        if (json_int(x, name, lo, hi, &out[i], src, e))
            return -1;
        i++;
    }
    return n;
}

int json_floats3(const cJSON *v, const char *key, int positive, float *out,
                 const char *src, struct err *e)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return err_set(e, "%s: key \"%s\" must be an array of 3 numbers (R, G, B)",
                       src, key);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsNumber(x))
            return err_set(e, "%s: key \"%s[%d]\" must be a number", src, key, i);
        if (positive && !(x->valuedouble > 0))
            return err_set(e, "%s: key \"%s[%d]\" must be positive", src, key, i);
        out[i++] = (float)x->valuedouble;
    }
    return 0;
}

int json_enum(const cJSON *v, const char *key, const char *const *names,
              int *out, const char *src, struct err *e)
{
    if (!cJSON_IsString(v))
        return err_set(e, "%s: key \"%s\" must be a string", src, key);
    for (int i = 0; names[i]; i++)
        if (!strcmp(v->valuestring, names[i])) {
            *out = i;
            return 0;
        }
    char allowed[256] = "";
    for (int i = 0; names[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed),
                 "%s\"%s\"", i ? ", " : "", names[i]);
    return err_set(e, "%s: key \"%s\" is \"%s\", must be one of %s", src, key,
                   v->valuestring, allowed);
}

int json_check_keys(const cJSON *obj, const char *const *known, const char *prefix,
                    const char *src, struct err *e)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, obj) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(x->string, known[i]);
        if (!ok)
            return err_set(e, "%s: unknown key \"%s%s\"", src, prefix, x->string);
    }
    return 0;
}

int json_bool(const cJSON *v, const char *key, int *out, const char *src, struct err *e)
{
    if (!cJSON_IsBool(v))
        return err_set(e, "%s: key \"%s\" must be true or false", src, key);
    *out = cJSON_IsTrue(v);
    return 0;
}
