/* ranges.h -- calibrated activation ranges (forward.h's struct fwd_ranges),
 * kept in the cache beside the packed weights.
 *
 * `resnet calibrate` measures them (calibrate.h) and writes
 *     CACHE/ranges/NAME.HASH.ranges     (CACHE: cache_dir)
 * keyed like the packed cache: the weight file's real path and the fp32
 * network's layout (fwd_params_layout).  The file is text: a first line
 *     resnet-ranges 1 SIZE MTIME_NS METHOD
 * (the weight file's size and modification time, which must still match,
 * and how the ranges were chosen), then one "NAME MAX" line per value. */
#ifndef RESNET_RANGES_H
#define RESNET_RANGES_H

#include <limits.h>
#include <stdint.h>

#include "err.h"
#include "forward.h"

/* The entry's path for `weights` and an fp32 layout. */
int ranges_path(char out[PATH_MAX], const char *weights, uint64_t layout, struct err *e);

/* 1 and r filled when the entry exists and matches the weight file; 0 when
 * it does not exist or is stale; -1 (e set) when it cannot be read. */
int ranges_load(const char *path, const char *weights, struct fwd_ranges *r, char method[32],
                struct err *e);

int ranges_save(const char *path, const char *weights, const struct fwd_ranges *r,
                const char *method, struct err *e);

/* Append (name, max), growing r's arrays (*cap: their room, 0 at first);
 * 0 or -1 (out of memory: r unchanged). */
int ranges_add(struct fwd_ranges *r, int *cap, const char *name, float max);

/* Room for n names; 0 or -1 (out of memory). */
int ranges_alloc(struct fwd_ranges *r, int n);
void ranges_free(struct fwd_ranges *r);

#endif
