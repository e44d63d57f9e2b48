// OpenBLAS: CBLAS from cblas.h, plus the LAPACK routines adascale needs. Debian's OpenBLAS
// exports LAPACK symbols but ships no lapacke.h, so the Fortran prototypes are declared here.
#ifndef ADASCALE_COPENBLAS_SHIM_H
#define ADASCALE_COPENBLAS_SHIM_H
#include <cblas.h>

/// LAPACK single-precision SVD, divide and conquer (column-major, Fortran calling convention).
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work,
             const int *lwork, int *iwork, int *info);

static inline void adablas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int adablas_get_threads(void) { return openblas_get_num_threads(); }
static inline const char *adablas_core_name(void) { return openblas_get_corename(); }
static inline const char *adablas_config(void) { return openblas_get_config(); }
#endif
