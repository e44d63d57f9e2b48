import AdaNN

extension Manifest.Preprocessing {
  /// The record of `preparation` for a model whose input is `inputShape`; `pixels` says whether
  /// the dataset held uint8 pixels (float data is used as stored, whatever the mode says).
  public init(_ preparation: ExamplePreparation, inputShape: [Int], pixels: Bool) {
    self.init(
      resize: preparation.resize.map {
        Resize(height: $0.height, width: $0.width, method: $0.method.rawValue)
      },
      channels: preparation.channels, mode: preparation.preprocess.rawValue,
      formula: pixels ? preparation.preprocess.formula : "x (float data, used as stored)",
      inputShape: inputShape)
  }
}
