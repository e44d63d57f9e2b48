import AdaNN
import AdaTensor

/// The model as it is shipped and timed: batch-norm folded into the convolutions
/// (`BatchNormFolding`) and hand paddings folded into `same` convolutions
/// (`SamePaddingFolding`). Outputs are unchanged; the source, every search candidate and every
/// emitted variant go through it, so a speed-up is the compression's alone.
public enum Deployment {
  public static func folded(_ model: Model) throws(AdaError) -> Model {
    try SamePaddingFolding.apply(to: BatchNormFolding().apply(to: model, selecting: .all).model)
  }
}
