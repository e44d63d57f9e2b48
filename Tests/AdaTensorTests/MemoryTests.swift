import AdaTensor
import XCTest

final class MemoryTests: XCTestCase {
  func testConfigureAllocatorIsAcceptedByGlibc() {
    #if canImport(Glibc)
      XCTAssertTrue(Memory.configureAllocator(), "mallopt rejected the thresholds")
      // Still a working allocator afterwards: a block above the old mmap threshold round-trips.
      var big = [Float](repeating: 1, count: 1 << 20)
      big[big.count - 1] = 2
      XCTAssertEqual(big.reduce(0, +), Float(1 << 20) + 1)
    #endif
  }
}
