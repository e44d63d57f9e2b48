import AdaTensor
import Foundation
import XCTest

final class MemoryTests: XCTestCase {
  func testConfigureAllocatorIsAcceptedByGlibc() throws {
    #if canImport(Glibc)
      // Under AddressSanitizer (`make test-asan`) malloc is the sanitizer's, whose mallopt
      // accepts nothing; glibc's thresholds do not exist there.
      try XCTSkipIf(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil,
        "the allocator is AddressSanitizer's")
      XCTAssertTrue(Memory.configureAllocator(), "mallopt rejected the thresholds")
      // Still a working allocator afterwards: a block above the old mmap threshold round-trips.
      var big = [Float](repeating: 1, count: 1 << 20)
      big[big.count - 1] = 2
      XCTAssertEqual(big.reduce(0, +), Float(1 << 20) + 1)
    #endif
  }
}
