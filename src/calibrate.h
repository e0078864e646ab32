/* calibrate.h -- choosing the activation ranges of an int8 plan from
 * images (`resnet calibrate`).
 *
 * The fp32 network runs over the images twice: once for each quantizable
 * value's largest value (min-max; the minimum of a value after a ReLU is
 * 0), once for a histogram of it, from which the 99.99th percentile.  The
 * int8 network then runs over the same images with each set of ranges, and
 * the set whose top-1 agrees with fp32 on more images (then: whose largest
 * probability difference is smaller) is kept, in the cache (ranges.h). */
#ifndef RESNET_CALIBRATE_H
#define RESNET_CALIBRATE_H

#include <limits.h>

#include "err.h"
#include "model.h"

#define CALIB_METHODS 2   /* min-max, percentile */

struct calib_result {
    int images;                      /* images calibrated on (failed ones are skipped) */
    int failed;                      /* images that could not be read */
    const char *method[CALIB_METHODS];
    int agree[CALIB_METHODS];        /* images whose int8 top-1 equals fp32's */
    double max_dp[CALIB_METHODS];    /* largest |p_int8 - p_fp32| over images and classes */
    int chosen;                      /* index of the kept method */
    char path[PATH_MAX];             /* where the ranges were written */
};

/* Calibrate mo's model (its weights file must exist) on at most max_images
 * images of paths (files, directories, "-": as classify reads them); a
 * failed image is reported through `bad` (may be NULL) and skipped. */
int calibrate(const struct model_opts *mo, char *const *paths, int n_paths, int max_images,
              void (*bad)(const char *path, const char *msg), struct calib_result *r,
              struct err *e);

#endif
