/* check.h -- the tiny harness every C test uses.
 *
 * Each CHECK prints one "PASS" or "FAIL" line naming what it checked, and
 * each SKIP one "SKIP" line saying what did not run and why; tests/run.sh
 * adds the lines of all test programs into "N passed, N failed, N skipped". */
#ifndef RESNET_CHECK_H
#define RESNET_CHECK_H

#include <stdio.h>

static int check_passed, check_failed, check_skipped;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed++;                                                  \
            printf("PASS ");                                                 \
        } else {                                                             \
            check_failed++;                                                  \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                      \
        }                                                                    \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        fflush(stdout);                                                      \
    } while (0)

/* A check that could not run here (a reference not generated, a tool not
 * installed): never silent, and counted, so CI can insist on none. */
#define SKIP(...)                                                            \
    do {                                                                     \
        check_skipped++;                                                     \
        printf("SKIP ");                                                     \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        fflush(stdout);                                                      \
    } while (0)

/* End of main(): a summary line for the reader; exit status says if all passed. */
#define CHECK_DONE()                                                         \
    (printf("# %s: %d passed, %d failed, %d skipped\n", __FILE__,          \
            check_passed, check_failed, check_skipped),                      \
     check_failed ? 1 : 0)

#endif
