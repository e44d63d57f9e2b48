import CLibFuzzer
import FuzzSupport

/// `fuzz-idx`: libFuzzer on `FuzzBodies.idx` (flags as libFuzzer's: corpus directories, -max_len=…).
@_cdecl("fuzz_idx_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    FuzzBodies.idx(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
}
