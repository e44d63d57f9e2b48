import AdaTensor
import Foundation

/// Scratch files for file-format tests: each test gets its own temporary directory.
public struct ScratchDirectory {
  public let url: URL
  public init(_ prefix: String = "adaio") { url = Fixtures.temporaryDirectory(prefix) }
  public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
  public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A tensor with distinct, reproducible values `start, start + step, …`.
public func ramp(_ shape: [Int], start: Float = 0, step: Float = 0.25) -> Tensor {
  Tensor(shape: shape, scalars: (0..<shape.elementCount).map { start + Float($0) * step })
}
