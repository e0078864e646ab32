/* h5_layout.h -- a Keras HDF5 file read with libhdf5 in this process.
 *
 * h5_read (h5.c) calls this in a child process: libhdf5 can crash or hang
 * on a corrupt file, and the child is what dies or is stopped then. */
#ifndef RESNET_H5_LAYOUT_H
#define RESNET_H5_LAYOUT_H

#include "h5.h"

/* h5_read's work, on a regular file that h5_read has already opened once:
 * the same result and errors, f left empty on error. */
int h5_layout_read(const char *path, struct h5_file *f, struct err *e);

#endif
