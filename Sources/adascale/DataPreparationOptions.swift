import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser

/// `--resize HxW [--resize-method] [--channels] [--preprocess] [--max-memory]`: how dataset
/// examples become model inputs (the recipe's `dataset.resize`, `channels`, `preprocess`,
/// `max-memory`; docs/recipes.md). Shared by eval, train and apply.
struct DataPreparationOptions: ParsableArguments {
  @Option(help: "Resize images to HEIGHTxWIDTH (e.g. 32x32) to fit the model's input.")
  var resize: String?

  @Option(help: "How --resize resamples: bilinear (Keras image.resize), nearest, or pad (zeros, centred).")
  var resizeMethod: ImageResize.Method = .bilinear

  @Option(help: "Channels the model takes: 3 repeats a grey image's channel (grey → RGB).")
  var channels: Int?

  @Option(
    help:
      "How uint8 pixels become inputs: unit (x/255), tf (x/127.5−1), torch, caffe, raw (Keras preprocess_input)."
  )
  var preprocess: PreprocessMode = .unit

  @Option(
    help:
      "Stream an HDF5 split from its file when its examples take more than this (e.g. 2GB; default: half of MemAvailable)."
  )
  var maxMemory: String?

  func validate() throws {
    if let resize { _ = try Self.parseSize(resize) }
    if let channels, channels < 1 {
      throw ValidationError("--channels must be at least 1, found \(channels)")
    }
    if let maxMemory {
      do {
        _ = try MemoryBudget.parse(maxMemory)
      } catch {
        throw ValidationError("--max-memory: \(error.message)")
      }
    }
  }

  /// `32x32` → (32, 32).
  static func parseSize(_ text: String) throws -> (height: Int, width: Int) {
    let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), h >= 1, w >= 1 else {
      throw ValidationError(
        "--resize must be HEIGHTxWIDTH with positive numbers, e.g. 32x32; found '\(text)'")
    }
    return (h, w)
  }

  var preparation: ExamplePreparation {
    let size = resize.flatMap { try? Self.parseSize($0) }
    return ExamplePreparation(
      resize: size.map { ImageResize(height: $0.height, width: $0.width, method: resizeMethod) },
      channels: channels, preprocess: preprocess)
  }

  var maxMemoryBytes: Int? { maxMemory.flatMap { try? MemoryBudget.parse($0) } }

  /// `data` prepared and shaped for `inputShape`; errors name the option at fault (or, for a
  /// mismatch with the model, `dataset` with both shapes and the options that would fix it).
  func fit(_ data: LabeledDataset, to inputShape: [Int], file: String) throws(AdaError) -> LabeledDataset {
    do {
      return try data.fitted(to: inputShape, preparation: preparation)
    } catch {
      var e = error
      e.file = file
      let option = ["resize": "--resize", "channels": "--channels", "preprocess": "--preprocess"]
      if let path = error.path, let name = option[path] {
        e.path = name
      } else if error.path == "dataset", inputShape.count == 3, data.storedShape.count == 3 {
        var fixes: [String] = []
        if Array(inputShape[0...1]) != Array(data.exampleShape[0...1]) && resize == nil {
          fixes.append("--resize \(inputShape[0])x\(inputShape[1])")
        }
        if inputShape[2] != (channels ?? data.storedShape[2]) { fixes.append("--channels \(inputShape[2])") }
        e.hint = fixes.isEmpty ? nil : "add \(fixes.joined(separator: " ")) (see datasets/README.md)"
      }
      throw e
    }
  }
}

extension ImageResize.Method: ExpressibleByArgument {}
extension PreprocessMode: ExpressibleByArgument {}
