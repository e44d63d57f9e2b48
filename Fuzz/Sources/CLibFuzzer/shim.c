// Declarations only (include/libfuzzer.h); the definitions are in libclang_rt.fuzzer.
