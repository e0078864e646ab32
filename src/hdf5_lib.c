/* hdf5_lib.c -- the dlopen table of libhdf5 (see hdf5_lib.h for why).
 *
 * The Makefile passes HDF5_SONAME, the soname of the libhdf5 the build
 * compiles against, so that the library opened at run time has the ABI
 * that hdf5.h described; the fallback is Debian 12's. */
#include "hdf5_lib.h"

#include <dlfcn.h>
#include <string.h>

struct hdf5_lib hdf5_lib;

#ifndef HDF5_SONAME
#define HDF5_SONAME "libhdf5_serial.so.103"
#endif

int hdf5_lib_open(const char *path, struct err *e)
{
    if (hdf5_lib.p_H5open)
        return 0;
    void *lib = dlopen(HDF5_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return err_set(e, "%s: cannot load %s, which Keras .h5 files need: %s", path, HDF5_SONAME,
                       dlerror());
    const char *missing = NULL;
#define RESOLVE(sym) \
    if (!missing && !(*(void **)&hdf5_lib.p_##sym = dlsym(lib, #sym))) \
        missing = #sym;
    H5_FUNCTIONS(RESOLVE)
    H5_GLOBALS(RESOLVE)
#undef RESOLVE
    if (missing) {
        memset(&hdf5_lib, 0, sizeof hdf5_lib);
        return err_set(e, "%s: %s has no %s", path, HDF5_SONAME, missing);
    }
    return 0;
}
