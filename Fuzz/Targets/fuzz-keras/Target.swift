import CLibFuzzer
import FuzzSupport

/// `fuzz-keras`: libFuzzer on `FuzzBodies.keras` (flags as libFuzzer's: corpus directories, -max_len=…).
@_cdecl("fuzz_keras_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    FuzzBodies.keras(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
}
