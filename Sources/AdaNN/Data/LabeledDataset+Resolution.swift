import AdaTensor

extension LabeledDataset {
  /// The same images drawn at `height × width` (elastic resolution): the preparation's resize
  /// retargeted, so stored images go straight to the new size in one resampling — what an app
  /// does with a camera frame — or a bilinear resize added when there was none. A `pad`
  /// preparation cannot shrink, so it becomes bilinear. Labels, order and storage are shared.
  ///
  /// - Throws: `.badShape` (path `dataset`) when the examples are not `[H, W, C]` images.
  public func resizing(toHeight height: Int, width: Int) throws(AdaError) -> LabeledDataset {
    guard exampleShape.count == 3, storedShape.count == 3 else {
      throw AdaError(
        .badShape, path: "dataset", "examples of shape \(exampleShape) are not images [H, W, C] to resize")
    }
    if exampleShape[0] == height && exampleShape[1] == width { return self }
    var p = preparation
    let method = p.resize.map { $0.method == .pad ? .bilinear : $0.method } ?? .bilinear
    p.resize = ImageResize(height: height, width: width, method: method)
    var d = self
    d.preparation = p
    d.exampleShape = try p.outputShape(for: storedShape, pixels: storage.holdsPixels)
    return d
  }
}
