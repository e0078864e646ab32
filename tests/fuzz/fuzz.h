/* fuzz.h -- what the libFuzzer harnesses share.
 *
 * Each harness (fuzz_spec.c, fuzz_safetensors.c, fuzz_image.c) is one
 * function that feeds its input to the product's own code and checks what
 * came back: a success must be well-formed, a failure must be one error line.
 * Built by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined), a broken
 * promise aborts, so libFuzzer keeps the input as a crash.  Built into
 * tests/test_fuzz.c (FUZZ_REPLAY), the same functions replay the seed corpora
 * and every crash kept under tests/fuzz/regressions/ in `make test`, and a
 * broken promise is counted there instead. */
#ifndef RESNET_FUZZ_H
#define RESNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FUZZ_REPLAY
static int fuzz_broken;   /* promises broken since the replay last looked */
#define FUZZ_PROMISE(cond, ...)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: broken: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
            fuzz_broken++;                                                    \
        }                                                                     \
    } while (0)
#define FUZZ_ENTRY(fn)
#else
#define FUZZ_PROMISE(cond, ...)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: broken: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
            abort();                                                          \
        }                                                                     \
    } while (0)
#define FUZZ_ENTRY(fn)                                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)              \
    {                                                                         \
        fn(data, size);                                                       \
        return 0;                                                             \
    }
#endif

/* An error report: one non-empty line that names what failed. */
static inline int fuzz_one_line(const char *msg, const char *name)
{
    return msg[0] && !strchr(msg, '\n') && (!name || strstr(msg, name));
}

#endif
