import AdaNN
import AdaTensor

/// Stored Keras weights → adascale `Parameters` (`node/kernel`, `node/movingMean`, …).
///
/// Weights are matched by name when the file records names (legacy `.h5`), else by Keras order
/// (`.weights.h5` `vars/<i>`). Each weight is checked against what the layer config alone
/// implies (e.g. a Dense kernel's last dimension is `units`) and for NaN/Inf; errors name the
/// file and the HDF5 path or `layer/weight`. Input-dependent dimensions are checked afterwards
/// by `Model.validate()`. Nested models are walked level by level (`.weights.h5`) or read from
/// their one legacy group (`KerasNestedWeights`).
enum KerasWeightMapping {
  static func parameters(
    architecture: KerasArchitecture, source: some KerasWeightSource, file: String
  ) throws(AdaError) -> Parameters {
    var parameters = Parameters()
    let shapes = (try? architecture.graph.inferShapes()) ?? [:]
    try assign(architecture.modelLayerOrder, from: source, file: file, shapes: shapes, into: &parameters)
    return parameters
  }

  /// Reads the weights of one model's `model.layers` from `source` into `parameters`.
  static func assign(
    _ members: [KerasArchitecture.Member], from source: any KerasWeightSource, file: String,
    shapes: [String: [Int]], into parameters: inout Parameters
  ) throws(AdaError) {
    var served = Set<String>()
    for (index, member) in members.enumerated() {
      switch member {
      case .layer(let layer):
        let found = try source.weights(for: layer, index: index)
        if let found { served.insert(found.group) }
        try store(found?.weights ?? [], for: layer, file: file, shapes: shapes, into: &parameters)
      case .model(let model):
        switch try source.nested(model, index: index) {
        case .source(let inner, let group):
          served.insert(group)
          try assign(model.members, from: inner, file: file, shapes: shapes, into: &parameters)
        case .flat(let group, let weights):
          served.insert(group)
          for (layer, stored) in try KerasNestedWeights.split(weights, among: model.leaves, file: file) {
            try store(stored, for: layer, file: file, shapes: shapes, into: &parameters)
          }
        case nil:
          for layer in model.leaves {
            try store([], for: layer, file: file, shapes: shapes, into: &parameters)
          }
        }
      }
    }
    if let orphan = try source.groupsWithWeights().first(where: { !served.contains($0) }) {
      throw AdaError(
        .invalidValue, file: file, path: orphan,
        "the file stores weights here that belong to no layer of the model")
    }
  }

  /// Checks one layer's stored weights and puts them in `parameters`.
  static func store(
    _ stored: [StoredWeight], for layer: KerasArchitecture.Layer, file: String, shapes: [String: [Int]],
    into parameters: inout Parameters
  ) throws(AdaError) {
    var expected = KerasWeightNames.weights(for: layer.spec)
    if let statistics = layer.statistics {
      // Normalization(mean=…, variance=…): the config holds the statistics, the file none.
      let channels = shapes[layer.name]?.last ?? statistics.mean.count
      func perChannel(_ v: [Float]) -> Tensor {
        Tensor(shape: [channels], scalars: v.count == 1 ? Array(repeating: v[0], count: channels) : v)
      }
      guard statistics.mean.count == 1 || statistics.mean.count == channels else {
        throw AdaError(
          .badShape, file: file, path: layer.name,
          "layer '\(layer.name)' (Normalization) has \(statistics.mean.count) mean values for \(channels) channels"
        )
      }
      parameters[layer.name, "mean"] = perChannel(statistics.mean)
      parameters[layer.name, "variance"] = perChannel(statistics.variance)
      expected = []
    }
    if expected.isEmpty {
      if let first = stored.first {
        throw AdaError(
          .invalidValue, file: file, path: first.location,
          "layer '\(layer.name)' (\(layer.className)) has no weights, but the file stores \(stored.count)")
      }
      return
    }
    for (weight, s) in try pair(stored, with: expected, layer: layer, file: file) {
      guard KerasWeightNames.agrees(s.tensor.shape, with: weight.knownShape) else {
        throw AdaError(
          .badShape, file: file, path: s.location,
          "layer '\(layer.name)' weight '\(weight.kerasName)' has shape \(s.tensor.shape), "
            + "expected \(KerasWeightNames.describe(weight.knownShape)) from the layer config")
      }
      if let bad = s.tensor.scalars.firstIndex(where: { !$0.isFinite }) {
        throw AdaError(
          .nonFinite, file: file, path: s.location,
          "layer '\(layer.name)' weight '\(weight.kerasName)' holds \(s.tensor.scalars[bad]) at "
            + "\(multiIndex(bad, shape: s.tensor.shape))")
      }
      if !weight.discarded { parameters[layer.name, weight.internalName] = s.tensor }
    }
  }

  /// `[i, j, …]` of a row-major flat index.
  static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
      index[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return index
  }

  /// Pairs each expected weight with a stored one; a missing one is `.missing` naming
  /// `layer/weight` and what the file holds instead.
  private static func pair(
    _ stored: [StoredWeight], with expected: [KerasWeight], layer: KerasArchitecture.Layer, file: String
  ) throws(AdaError) -> [(KerasWeight, StoredWeight)] {
    let names = stored.compactMap(\.name)
    let byName =
      names.count == stored.count && Set(names).count == names.count
      && names.allSatisfy { n in expected.contains { $0.matches(n) } }
    var pairs: [(KerasWeight, StoredWeight)] = []
    for (i, weight) in expected.enumerated() {
      let match = byName ? stored.first { weight.matches($0.name!) } : (i < stored.count ? stored[i] : nil)
      guard let match else {
        let have = stored.isEmpty ? "none" : stored.map { $0.name ?? $0.location }.joined(separator: ", ")
        throw AdaError(
          .missing, file: file, path: "\(layer.name)/\(weight.internalName)",
          "layer '\(layer.name)' (\(layer.className)) is missing weight '\(weight.kerasName)' "
            + "(expected shape \(KerasWeightNames.describe(weight.knownShape))); the file has: \(have)")
      }
      pairs.append((weight, match))
    }
    if stored.count > expected.count {
      let extra =
        byName ? stored.first { s in !expected.contains { $0.matches(s.name!) } } : stored[expected.count]
      throw AdaError(
        .invalidValue, file: file, path: extra?.location ?? layer.name,
        "layer '\(layer.name)' (\(layer.className)) stores \(stored.count) weights, expected "
          + "\(expected.count) (\(expected.map(\.kerasName).joined(separator: ", ")))")
    }
    return pairs
  }
}
