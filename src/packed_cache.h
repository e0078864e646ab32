/* packed_cache.h -- the packed weights of a weight file, kept on disk
 * between processes.
 *
 * Converting a weight file and folding and packing it for the kernels is
 * most of a short process's time (bench/README.md measures it).  The first
 * `classify` of a weight file writes the packed block to
 *     CACHE/packed/NAME.HASH.packed      (CACHE: cache_dir)
 * and later ones map it and never open the weight file.  An entry is used
 * only while the weight file (device, inode, size, mtime, ctime), the
 * network's layout (fwd_params_layout) and the resnet binary itself are
 * what they were when it was written; anything else is a miss, and the
 * entry is rewritten.  The cache is an optimisation: when it cannot be read
 * or written, classify packs as before and says nothing. */
#ifndef RESNET_PACKED_CACHE_H
#define RESNET_PACKED_CACHE_H

#include <limits.h>
#include <stdint.h>

#include "forward.h"

/* What an entry must say about the weight file, the layout and the binary. */
struct packed_key {
    char magic[8];
    uint64_t layout, params_bytes;
    uint64_t weights_dev, weights_ino, weights_size;
    int64_t weights_mtime_ns, weights_ctime_ns;
    uint64_t exe_ino, exe_size;
    int64_t exe_mtime_ns;
};

struct packed_cache {
    char path[PATH_MAX];     /* the entry for this weight file and layout */
    struct packed_key key;
};

/* The entry for `weights` packed as f's plan lays it out.  -1 when there
 * is no cache (no cache folder, the weight file or the binary cannot be
 * stat'ed): the caller packs and skips packed_cache_save. */
int packed_cache_find(struct packed_cache *c, const struct fwd *f, const char *weights);

/* Map the entry's block into f (fwd_adopt_params): 1 when it was there and
 * current, 0 when not. */
int packed_cache_load(const struct packed_cache *c, struct fwd *f);

/* Write f's packed block as the entry, for the next process: a temporary
 * file renamed into place, so concurrent processes never see half of one. */
void packed_cache_save(const struct packed_cache *c, const struct fwd *f);

#endif
