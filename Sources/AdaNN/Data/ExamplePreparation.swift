import AdaTensor

/// What happens to each stored example when a batch is drawn, in this order:
///
/// 1. `resize` to the model's height × width (`ImageResize`), on pixel values;
/// 2. `channels`: grey → RGB by repeating the one channel (`1 → 3`); nil keeps the channels;
/// 3. `preprocess` (`PreprocessMode`): uint8 pixels become Float32 model inputs.
///
/// Float data is used as stored, so only `preprocess: unit` (the default, meaning "as stored"
/// for floats) goes with it; resizing and channel repetition work on any `[H, W, C]` images.
/// Errors name the setting (`resize`, `channels`, `preprocess`) as their path: callers prefix
/// the recipe section or name the CLI option.
///
///     let p = ExamplePreparation(resize: ImageResize(height: 32, width: 32), channels: 3, preprocess: .tf)
///     try p.outputShape(for: [28, 28, 1], pixels: true)      // [32, 32, 3]
public struct ExamplePreparation: Codable, Hashable, Sendable {
  public var resize: ImageResize?
  public var channels: Int?
  public var preprocess: PreprocessMode

  public init(resize: ImageResize? = nil, channels: Int? = nil, preprocess: PreprocessMode = .unit) {
    self.resize = resize
    self.channels = channels
    self.preprocess = preprocess
  }

  public static let none = ExamplePreparation()

  /// True when examples are used as stored (uint8 still becomes x/255).
  public var isIdentity: Bool { resize == nil && channels == nil && preprocess == .unit }

  /// The shape of a prepared example stored as `stored`; `pixels` says whether the stored values
  /// are uint8 pixels. Throws `.invalidValue` / `.badShape` naming the setting at fault.
  public func outputShape(for stored: [Int], pixels: Bool) throws(AdaError) -> [Int] {
    if !pixels && preprocess != .unit {
      throw AdaError(
        .invalidValue, path: "preprocess",
        "'\(preprocess.rawValue)' needs uint8 pixel data (0–255); these examples are floats, used as stored",
        hint: "store the images as uint8, or scale them yourself and leave preprocess at unit")
    }
    if isIdentity || (resize == nil && channels == nil) {
      if preprocess.needsThreeChannels && stored.last != 3 {
        throw threeChannels(stored)
      }
      return stored
    }
    guard stored.count == 3 else {
      throw AdaError(
        .badShape, path: resize != nil ? "resize" : "channels",
        "resizing and channel repetition need [H, W, C] images; the examples are \(stored)")
    }
    var (h, w, c) = (stored[0], stored[1], stored[2])
    if let resize {
      guard resize.height >= 1, resize.width >= 1 else {
        throw AdaError(
          .invalidValue, path: "resize", "size must be positive, found \(resize.height)x\(resize.width)")
      }
      if resize.method == .pad && (resize.height < h || resize.width < w) {
        throw AdaError(
          .invalidValue, path: "resize",
          "pad cannot shrink \(h)x\(w) images to \(resize.height)x\(resize.width)",
          hint: "use method bilinear or nearest to shrink")
      }
      (h, w) = (resize.height, resize.width)
    }
    if let channels {
      guard channels == c || (c == 1 && channels == 3) else {
        throw AdaError(
          .invalidValue, path: "channels",
          "cannot make \(channels) channels from \(c): only grey → RGB (1 → 3) repeats, other counts must match"
        )
      }
      c = channels
    }
    if preprocess.needsThreeChannels && c != 3 { throw threeChannels([h, w, c]) }
    return [h, w, c]
  }

  private func threeChannels(_ shape: [Int]) -> AdaError {
    AdaError(
      .invalidValue, path: "preprocess",
      "'\(preprocess.rawValue)' works on RGB images (3 channels); the examples are \(shape)",
      hint: shape.last == 1 ? "add channels: 3 to repeat the grey channel" : nil)
  }
}
