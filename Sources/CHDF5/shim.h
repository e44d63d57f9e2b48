// HDF5 exposes type and property constants as macros over global variables, which Swift 6
// cannot import (or imports as unsafe mutable globals). Each one is wrapped in a function here.
// Calling any of them also runs H5open() implicitly, so the library is initialised.
#ifndef ADASCALE_CHDF5_SHIM_H
#define ADASCALE_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t adahdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t adahdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t adahdf5_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t adahdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t adahdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t adahdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t adahdf5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t adahdf5_c_s1(void) { return H5T_C_S1; }
static inline hid_t adahdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t adahdf5_s_all(void) { return H5S_ALL; }
static inline hid_t adahdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t adahdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline unsigned adahdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned adahdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned adahdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned adahdf5_acc_excl(void) { return H5F_ACC_EXCL; }
static inline size_t adahdf5_variable(void) { return H5T_VARIABLE; }
static inline hid_t adahdf5_e_default(void) { return H5E_DEFAULT; }
/// Silences HDF5's automatic error-stack printing; adascale reports errors itself.
static inline void adahdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#endif
