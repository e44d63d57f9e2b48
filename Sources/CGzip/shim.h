// zlib, for reading gzip'd IDX dataset files directly.
#ifndef ADASCALE_CGZIP_SHIM_H
#define ADASCALE_CGZIP_SHIM_H
#include <zlib.h>
#endif
