import CLibFuzzer
import FuzzSupport

/// `fuzz-h5`: libFuzzer on `FuzzBodies.h5` (flags as libFuzzer's: corpus directories, -max_len=…).
@_cdecl("fuzz_h5_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    FuzzBodies.h5(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
}
