#pragma once
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): parses libFuzzer's flags from
/// argv and fuzzes `callback`. The fuzz targets' main calls it, because SwiftPM links an
/// executable's main to `<module>_main` and libFuzzer's own main is then not used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
