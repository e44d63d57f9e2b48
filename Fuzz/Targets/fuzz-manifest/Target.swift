import CLibFuzzer
import FuzzSupport

/// `fuzz-manifest`: libFuzzer on `FuzzBodies.manifest` (flags as libFuzzer's: corpus directories, -max_len=…).
@_cdecl("fuzz_manifest_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    FuzzBodies.manifest(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
}
