import AdaTensor
import Foundation
import TestSupport

/// Scratch files for AdaIO tests: each test gets its own temporary directory.
struct ScratchDirectory {
  let url: URL
  init(_ prefix: String = "adaio") { url = Fixtures.temporaryDirectory(prefix) }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
  func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A tensor with distinct, reproducible values `start, start + step, …`.
func ramp(_ shape: [Int], start: Float = 0, step: Float = 0.25) -> Tensor {
  Tensor(shape: shape, scalars: (0..<shape.elementCount).map { start + Float($0) * step })
}
