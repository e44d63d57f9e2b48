import AdaBundle
import AdaIO
import Foundation
import TestSupport
import XCTest

/// A whole `adascale compress` run small enough to repeat in fault tests (a few seconds): a
/// two-convolution CNN (`Fixtures/arch/fault_cnn.yaml`) trained from scratch on 12×12 quadrant
/// images (`TrainResumeCLITests.writeQuadrantDataset`), a supernet of widths 1/0.5, a low-rank
/// branch and 8-bit weights, a 4 × 2 search, two variants.
struct TinyCompress {
  /// Holds the dataset, recipes, bundles, work directories and the latency table.
  let directory: String

  /// Writes the dataset into `directory` (created).
  init(directory: String) throws {
    self.directory = directory
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try TrainResumeCLITests.writeQuadrantDataset(to: dataset, train: 512, test: 128)
  }

  var dataset: String { directory + "/quadrants.h5" }

  /// Writes `<name>.yaml` for a bundle at `<directory>/<name>` (work directory `<name>.work`
  /// unless `work` says otherwise) and returns the recipe's path.
  /// `seed` is the search's; `extra` is appended as top-level keys (e.g. `gates: {…}`).
  func recipe(
    _ name: String, output: String? = nil, work: String? = nil, seed: Int = 0, extra: String = ""
  ) throws -> String {
    let output = output ?? directory + "/" + name
    let text = """
      name: \(name)
      model:
        architecture: \(Fixtures.path("arch/fault_cnn.yaml"))
        train: {epochs: 2, batch-size: 16, seed: 3}
      dataset: {source: \(dataset), validation: 96, calibration: 64}
      supernet:
        widths: [1.0, 0.5]
        branches: [low-rank:0.25]
        bits: [32, 8]
        exits: none
        training: {epochs: 2, batch-size: 16, recalibration-batches: 2}
      search: {population: 4, generations: 2, workers: 2, seed: \(seed)}
      targets: {devices: [host], contexts: {normal: {cpu: 1.0}}}
      output: {directory: \(output), variants: 2\(work.map { ", work-directory: \($0)" } ?? "")}
      \(extra)
      """
    let path = directory + "/" + name + ".yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// `compress` arguments for `recipe`, with the latency table shared by every run here (so two
  /// runs score candidates the same and find the same variants).
  func arguments(_ recipe: String) -> [String] {
    [
      "compress", "--recipe", recipe, "--no-compare-random", "--probe-budget-ms", "1", "--latency-cache",
      directory + "/latency",
    ]
  }

  static func manifest(_ bundle: String) throws -> Manifest {
    try JSONDecoder().decode(
      Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json")))
  }

  /// The two bundles hold the same variants (genomes, accuracies, every weight bit for bit) made
  /// from the same baseline (its weights: the `.h5` bytes carry HDF5 timestamps).
  static func assertSameBundle(
    _ bundle: String, _ reference: String, _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let got = try manifest(bundle)
    let want = try manifest(reference)
    XCTAssertEqual(
      got.variants.map(\.genomeKey), want.variants.map(\.genomeKey), what, file: file, line: line)
    XCTAssertEqual(got.variants.map(\.accuracy), want.variants.map(\.accuracy), what, file: file, line: line)
    XCTAssertEqual(
      try KerasModelReader.load(path: got.source.file).parameters,
      try KerasModelReader.load(path: want.source.file).parameters, "\(what): baseline", file: file,
      line: line)
    for (g, w) in zip(got.variants, want.variants) {
      let a = try KerasModelReader.load(path: bundle + "/" + g.file).parameters
      let b = try KerasModelReader.load(path: reference + "/" + w.file).parameters
      XCTAssertEqual(a, b, "\(what): \(g.id) weights differ", file: file, line: line)
    }
  }

  /// Names in the bundle's parent directory that a failed or killed write may leave behind
  /// (`<bundle>.tmp-*`, `<bundle>.old-*`).
  static func leftovers(of bundle: String) -> [String] {
    let parent = (bundle as NSString).deletingLastPathComponent
    let base = (bundle as NSString).lastPathComponent
    let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
    return names.filter { $0.hasPrefix(base + ".tmp-") || $0.hasPrefix(base + ".old-") }
  }
}
