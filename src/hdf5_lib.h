/* hdf5_lib.h -- the libhdf5 calls of the HDF5 reader, through a table.
 *
 * libhdf5 is opened with dlopen when a Keras file is read, not linked:
 * Debian's libhdf5 pulls in libcurl, OpenSSL and some thirty more libraries,
 * which the dynamic loader would then map and relocate at the start of
 * every resnet process, though most never read a Keras file.  Every
 * libhdf5 symbol h5_layout.c uses, functions and the globals behind hdf5.h's
 * macros (H5T_NATIVE_FLOAT is H5open() then H5T_NATIVE_FLOAT_g), is named
 * here; hdf5_lib_open fills the table with them, and the defines below make
 * each name read through the table, so that code is written as plain
 * libhdf5 calls. */
#ifndef RESNET_HDF5_LIB_H
#define RESNET_HDF5_LIB_H

#include <hdf5.h>

#include "err.h"

#define H5_FUNCTIONS(X) \
    X(H5Aclose) X(H5Aexists) X(H5Aget_space) X(H5Aget_type) X(H5Aopen) X(H5Aread) X(H5Dclose) \
    X(H5Dget_space) X(H5Dget_space_status) X(H5Dget_type) X(H5Dopen2) X(H5Dread) \
    X(H5Eclear2) X(H5Eget_auto2) X(H5Eset_auto2) X(H5Ewalk2) X(H5Fclose) \
    X(H5Fopen) X(H5Gclose) X(H5Gopen2) X(H5Lexists) X(H5Pclose) X(H5Pcreate) \
    X(H5Pset_elink_cb) X(H5Pset_fclose_degree) X(H5Sclose) \
    X(H5Sget_simple_extent_dims) X(H5Sget_simple_extent_ndims) X(H5Sget_simple_extent_npoints) \
    X(H5Sget_simple_extent_type) X(H5Tclose) X(H5Tcopy) X(H5Tget_class) X(H5Tget_cset) \
    X(H5Tget_size) X(H5Tget_strpad) X(H5Tis_variable_str) X(H5Tset_cset) X(H5Tset_size) \
    X(H5check_version) X(H5open) \
    H5_BY_VERSION(X) H5_FILE_LOCKING(X)
/* the calls that differ between libhdf5 versions, as h5_layout.c uses them */
#if H5_VERSION_GE(1, 12, 0)
#define H5_BY_VERSION(X) X(H5Treclaim) X(H5Fis_accessible)
#else
#define H5_BY_VERSION(X) X(H5Dvlen_reclaim) X(H5Fis_hdf5)
#endif
#define H5_HAS_FILE_LOCKING \
    (H5_VERSION_GE(1, 12, 1) || (H5_VERSION_GE(1, 10, 7) && !H5_VERSION_GE(1, 11, 0)))
#if H5_HAS_FILE_LOCKING
#define H5_FILE_LOCKING(X) X(H5Pset_file_locking)
#else
#define H5_FILE_LOCKING(X)
#endif
#define H5_GLOBALS(X) \
    X(H5P_CLS_DATASET_ACCESS_ID_g) X(H5P_CLS_FILE_ACCESS_ID_g) X(H5P_CLS_GROUP_ACCESS_ID_g) \
    X(H5T_C_S1_g) X(H5T_NATIVE_FLOAT_g)

/* A pointer per symbol: p_H5Fopen is H5Fopen.  The members are not named
 * as the symbols themselves, which the defines below take over. */
struct hdf5_lib {
#define HDF5_LIB_POINTER(sym) __typeof__(sym) *p_##sym;
    H5_FUNCTIONS(HDF5_LIB_POINTER)
    H5_GLOBALS(HDF5_LIB_POINTER)
#undef HDF5_LIB_POINTER
};

extern struct hdf5_lib hdf5_lib;

/* Load libhdf5 and find every symbol above, once per process; later calls
 * return 0 at once.  `path` (the file about to be read) names the error. */
int hdf5_lib_open(const char *path, struct err *e);

#define H5Aclose (hdf5_lib.p_H5Aclose)
#define H5Aexists (hdf5_lib.p_H5Aexists)
#define H5Aget_space (hdf5_lib.p_H5Aget_space)
#define H5Aget_type (hdf5_lib.p_H5Aget_type)
#define H5Aopen (hdf5_lib.p_H5Aopen)
#define H5Aread (hdf5_lib.p_H5Aread)
#define H5Dclose (hdf5_lib.p_H5Dclose)
#define H5Dget_space (hdf5_lib.p_H5Dget_space)
#define H5Dget_space_status (hdf5_lib.p_H5Dget_space_status)
#define H5Dget_type (hdf5_lib.p_H5Dget_type)
#define H5Dopen2 (hdf5_lib.p_H5Dopen2)
#define H5Dread (hdf5_lib.p_H5Dread)
#define H5Dvlen_reclaim (hdf5_lib.p_H5Dvlen_reclaim)
#define H5Treclaim (hdf5_lib.p_H5Treclaim)
#define H5Eclear2 (hdf5_lib.p_H5Eclear2)
#define H5Eget_auto2 (hdf5_lib.p_H5Eget_auto2)
#define H5Eset_auto2 (hdf5_lib.p_H5Eset_auto2)
#define H5Ewalk2 (hdf5_lib.p_H5Ewalk2)
#define H5Fclose (hdf5_lib.p_H5Fclose)
#define H5Fis_hdf5 (hdf5_lib.p_H5Fis_hdf5)
#define H5Fis_accessible (hdf5_lib.p_H5Fis_accessible)
#define H5Fopen (hdf5_lib.p_H5Fopen)
#define H5Gclose (hdf5_lib.p_H5Gclose)
#define H5Gopen2 (hdf5_lib.p_H5Gopen2)
#define H5Lexists (hdf5_lib.p_H5Lexists)
#define H5Pclose (hdf5_lib.p_H5Pclose)
#define H5Pcreate (hdf5_lib.p_H5Pcreate)
#define H5Pset_elink_cb (hdf5_lib.p_H5Pset_elink_cb)
#define H5Pset_fclose_degree (hdf5_lib.p_H5Pset_fclose_degree)
#define H5Pset_file_locking (hdf5_lib.p_H5Pset_file_locking)
#define H5Sclose (hdf5_lib.p_H5Sclose)
#define H5Sget_simple_extent_dims (hdf5_lib.p_H5Sget_simple_extent_dims)
#define H5Sget_simple_extent_ndims (hdf5_lib.p_H5Sget_simple_extent_ndims)
#define H5Sget_simple_extent_npoints (hdf5_lib.p_H5Sget_simple_extent_npoints)
#define H5Sget_simple_extent_type (hdf5_lib.p_H5Sget_simple_extent_type)
#define H5Tclose (hdf5_lib.p_H5Tclose)
#define H5Tcopy (hdf5_lib.p_H5Tcopy)
#define H5Tget_class (hdf5_lib.p_H5Tget_class)
#define H5Tget_cset (hdf5_lib.p_H5Tget_cset)
#define H5Tget_size (hdf5_lib.p_H5Tget_size)
#define H5Tget_strpad (hdf5_lib.p_H5Tget_strpad)
#define H5Tis_variable_str (hdf5_lib.p_H5Tis_variable_str)
#define H5Tset_cset (hdf5_lib.p_H5Tset_cset)
#define H5Tset_size (hdf5_lib.p_H5Tset_size)
#define H5check_version (hdf5_lib.p_H5check_version)
#define H5open (hdf5_lib.p_H5open)
#define H5P_CLS_DATASET_ACCESS_ID_g (*hdf5_lib.p_H5P_CLS_DATASET_ACCESS_ID_g)
#define H5P_CLS_FILE_ACCESS_ID_g (*hdf5_lib.p_H5P_CLS_FILE_ACCESS_ID_g)
#define H5P_CLS_GROUP_ACCESS_ID_g (*hdf5_lib.p_H5P_CLS_GROUP_ACCESS_ID_g)
#define H5T_C_S1_g (*hdf5_lib.p_H5T_C_S1_g)
#define H5T_NATIVE_FLOAT_g (*hdf5_lib.p_H5T_NATIVE_FLOAT_g)

#endif
