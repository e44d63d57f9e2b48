import AdaNN
import AdaTensor
import Foundation

/// Training batches for the benchmarks: Fashion-MNIST from its gzip'd IDX files when present
/// (decompressed with the system `gzip`, as this is a benchmark tool and not the product's
/// reader), else seeded random images of the model's input shape with random labels.
enum BenchData {
  static let fashionMNIST = "/usr/share/datasets/fashion-mnist"

  /// `[N, 28, 28, 1]` images in [0, 1] and labels, or random data of `shape` when `source` is
  /// "random", the files are missing, or the model does not take 28×28×1 images.
  static func training(source: String, shape: [Int], classes: Int, seed: UInt64) throws(AdaError)
    -> LabeledDataset
  {
    guard source == "fmnist" || source == "random" else {
      throw AdaError(.invalidValue, path: "--data", "expected fmnist or random, found '\(source)'")
    }
    let images = "\(fashionMNIST)/train-images-idx3-ubyte.gz"
    let labels = "\(fashionMNIST)/train-labels-idx1-ubyte.gz"
    if source == "fmnist", shape == [28, 28, 1], FileManager.default.fileExists(atPath: images),
      let x = gunzip(images), let y = gunzip(labels), x.count > 16, y.count > 8
    {
      let n = min((x.count - 16) / 784, y.count - 8)
      let pixels = [UInt8](x.dropFirst(16).prefix(n * 784)).map { Float($0) / 255 }
      let classes = [UInt8](y.dropFirst(8).prefix(n)).map { Int32($0) }
      return LabeledDataset(
        name: "fashion-mnist", images: Tensor(shape: [n, 28, 28, 1], scalars: pixels),
        labels: classes, classCount: 10)
    }
    var g = SeededGenerator(seed: seed)
    let n = 4096
    return LabeledDataset(
      name: "random", images: Tensor.uniform([n] + shape, lo: 0, hi: 1, using: &g),
      labels: (0..<n).map { _ in Int32(g.next() % UInt64(classes)) }, classCount: classes)
  }

  /// The decompressed bytes of a `.gz` file, or nil when `gzip` fails.
  static func gunzip(_ path: String) -> Data? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? data : nil
  }
}
