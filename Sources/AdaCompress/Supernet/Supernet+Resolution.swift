import AdaNN
import AdaTensor
import AdaTrain

/// Elastic input resolution (once-for-all): a configuration may run the model on smaller images.
/// Convolutions, pooling and global pooling do not care about the image size, so the weights are
/// the same; only the input node's shape changes, and the inputs are resized (bilinear, as
/// Keras' `image.resize`) before they reach the model. The emitted variant's Keras input is the
/// smaller size; the manifest records it, and the runtime resizes what it is given.
extension Supernet {
  /// The source's input resolution (its input height), for a square image input.
  public var sourceResolution: Int? {
    let shape = source.graph.inputShape
    return shape.count == 3 && shape[0] == shape[1] ? shape[0] : nil
  }

  /// The source's resolution first, then the others descending; checks that the model runs
  /// with its weights unchanged at every one (`source` with its hand paddings folded, see
  /// `SamePaddingFolding`).
  static func checkResolutions(_ requested: [Int], of source: Model) throws(AdaError) -> [Int] {
    guard !requested.isEmpty else { return [] }
    let shape = source.graph.inputShape
    guard shape.count == 3, shape[0] == shape[1] else {
      throw AdaError(
        .invalidValue, path: "supernet.resolutions",
        "elastic resolution needs a square image input [S, S, C]; "
          + "model '\(source.graph.name)' takes \(shape)")
    }
    guard requested.contains(shape[0]) else {
      throw AdaError(
        .invalidValue, path: "supernet.resolutions",
        "resolutions must include the model's own, \(shape[0]), found \(requested)")
    }
    for r in requested.sorted(by: >) where r != shape[0] {
      let model = Model(graph: resized(source.graph, to: r), parameters: source.parameters)
      do {
        try model.validate()
      } catch {
        throw AdaError(
          .invalidValue, path: "supernet.resolutions",
          "model '\(source.graph.name)' does not run at \(r)×\(r) with its weights: \(error.message)",
          hint: "a Flatten before a Dense ties the weights to one size; offer only sizes the model accepts")
      }
    }
    return [shape[0]] + requested.filter { $0 != shape[0] }.sorted(by: >)
  }

  /// `graph` with its input node taking `r × r` images.
  public static func resized(_ graph: Graph, to r: Int) -> Graph {
    var g = graph
    if let i = g.nodes.firstIndex(where: { if case .input = $0.spec { true } else { false } }),
      case .input(var spec) = g.nodes[i].spec
    {
      spec.shape = [r, r] + spec.shape.dropFirst(2)
      g.nodes[i].spec = .input(spec)
    }
    return g
  }

  /// `graph` at `config`'s resolution (unchanged for nil or the source's).
  func atResolution(of config: SubnetConfig, _ graph: Graph) -> Graph {
    guard let r = config.resolution, r != sourceResolution else { return graph }
    return Self.resized(graph, to: r)
  }
}

extension Supernet {
  /// `data` as `config`'s model takes it: images at its resolution (unchanged when it runs at
  /// the data's own size).
  public func inputs(_ data: LabeledDataset, for config: SubnetConfig) throws(AdaError) -> LabeledDataset {
    guard let r = config.resolution else { return data }
    return try data.resizing(toHeight: r, width: r)
  }

  /// The distillation that fine-tunes `config` on `train` (examples at the source's size): the
  /// source model at its own resolution is the teacher, and a configuration on smaller images
  /// is taught from the same examples at the source's size (`Distillation.teacherInputs`). The
  /// source run on shrunk images is a weak teacher: Keras' MobileNetV2 at 16×16 scores near 75 %
  /// where its 16×16 students start near 79 % (docs/algorithms.md).
  ///
  ///     let d = supernet.distillation(for: config, train: data.train, alpha: 0.5, temperature: 2)
  ///     try d.fineTune(model, on: supernet.inputs(data.train, for: config))
  public func distillation(for config: SubnetConfig, train: LabeledDataset, alpha: Float, temperature: Float)
    -> Distillation
  {
    let ownSize = config.resolution == nil || config.resolution == sourceResolution
    return Distillation(
      teacher: source, alpha: alpha, temperature: temperature, teacherInputs: ownSize ? nil : train)
  }
}
