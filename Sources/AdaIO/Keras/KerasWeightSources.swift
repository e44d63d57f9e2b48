import AdaNN
import AdaTensor
import Foundation

/// One weight as found in a file.
struct StoredWeight {
  /// Base name (`kernel`, `moving_mean`) when the file records names; nil for `vars/<i>`.
  var name: String?
  /// The whole recorded name (`inner/conv1/kernel`), when there is one.
  var fullName: String? = nil
  var tensor: Tensor
  /// HDF5 path, for errors.
  var location: String
}

/// A nested model's weights: another source for its own `model.layers` (`.weights.h5`), or
/// one list for the whole model (legacy `.h5`: the model's group lists every inner weight).
enum NestedKerasWeights {
  case source(any KerasWeightSource, group: String)
  case flat(group: String, weights: [StoredWeight])
}

/// Where a Keras file keeps each layer's weights.
protocol KerasWeightSource {
  /// The group holding `layer`'s weights (the layer at `index` in `model.layers` order) and the
  /// weights in it, or nil when the file has nothing for the layer.
  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  /// Where the nested model at `index` keeps its layers' weights, or nil when the file has
  /// nothing for it.
  func nested(_ model: KerasArchitecture.NestedModel, index: Int) throws(AdaError) -> NestedKerasWeights?
  /// Every group that holds at least one weight, for spotting weights that belong to no layer.
  func groupsWithWeights() throws(AdaError) -> [String]
}

/// Legacy `.h5`: `model_weights/<layer>` groups listing their datasets in the `weight_names`
/// attribute (`<model>/<layer>/kernel` in Keras 3, `<layer>/kernel:0` in Keras 2). A nested
/// model has one group, named after it, listing the weights of all its layers
/// (`<model>/<inner layer>/kernel`).
struct LegacyH5WeightSource: KerasWeightSource {
  let group: HDF5Group

  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  {
    try read(layer.kerasName)
  }

  func nested(_ model: KerasArchitecture.NestedModel, index: Int) throws(AdaError) -> NestedKerasWeights? {
    try read(model.kerasName).map { .flat(group: $0.group, weights: $0.weights) }
  }

  private func read(_ name: String) throws(AdaError) -> (group: String, weights: [StoredWeight])? {
    guard try group.kind(of: name) == .group else { return nil }
    let layerGroup = try group.group(name)
    let names = try layerGroup.readSplitStrings(attribute: "weight_names") ?? []
    var out: [StoredWeight] = []
    for stored in names {
      let location = layerGroup.absolute(stored)
      guard try layerGroup.kind(of: stored) == .dataset else {
        throw AdaError(
          .missing, file: group.file.path, path: location,
          "layer '\(name)' lists weight '\(stored)' in weight_names, but the dataset is missing")
      }
      let tensor = try layerGroup.dataset(stored).readTensor()
      out.append(
        StoredWeight(
          name: KerasWeightNames.baseName(stored), fullName: stored, tensor: tensor, location: location))
    }
    return (layerGroup.path, out)
  }

  func groupsWithWeights() throws(AdaError) -> [String] {
    var names = try group.readSplitStrings(attribute: "layer_names")
    if names == nil { names = try group.children(ofKind: .group) }
    var out: [String] = []
    for n in names ?? [] where try group.kind(of: n) == .group {
      let g = try group.group(n)
      if !(try g.readSplitStrings(attribute: "weight_names") ?? []).isEmpty { out.append(g.path) }
    }
    return out
  }
}

/// Keras 3 `.weights.h5` (also inside `.keras`): `layers/<snake_class>[_k]/vars/<i>`; a nested
/// model's layers in `layers/<snake_class>[_k]/layers/…` by the same rule, one level down.
///
/// Keras names a layer's group after its class in snake case, numbering repeats in
/// `model.layers` order (`dense`, `dense_1`, …; a nested Functional is `functional`); newer files
/// also store the layer's own name in the `vars` group's `name` attribute. A layer is found by
/// that name when present, else by the class-and-position rule (what Keras itself uses when
/// loading).
struct KerasV3WeightSource: KerasWeightSource {
  let root: HDF5Group
  /// Layer group path (`layers/dense_1`) by the layer name recorded in its vars group.
  private let byRecordedName: [String: String]
  /// Layer group path by position in `model.layers`.
  private let byPosition: [String]

  init(root: HDF5Group, modelLayers: [KerasArchitecture.Member]) throws(AdaError) {
    self.root = root
    var recorded: [String: String] = [:]
    if try root.kind(of: "layers") == .group {
      for g in try root.group("layers").children(ofKind: .group) {
        let vars = "layers/\(g)/vars"
        guard try root.kind(of: vars) == .group else { continue }
        let group = try root.group(vars)
        if try group.hasAttribute("name"), let n = try? group.readString(attribute: "name") {
          recorded[n] = "layers/\(g)"
        }
      }
    }
    byRecordedName = recorded
    var used: [String: Int] = [:]
    byPosition = modelLayers.map { layer in
      let base = kerasSnakeCase(layer.className)
      let k = used[base].map { $0 + 1 } ?? 0
      used[base] = k
      return "layers/\(k == 0 ? base : "\(base)_\(k)")"
    }
  }

  /// The layer group of the member named `name` at `index`.
  private func layerGroup(_ name: String, index: Int) -> String? {
    let candidates = [byRecordedName[name], index < byPosition.count ? byPosition[index] : nil]
    return candidates.compactMap({ $0 }).first(where: { root.contains($0) })
  }

  func weights(for layer: KerasArchitecture.Layer, index: Int) throws(AdaError)
    -> (group: String, weights: [StoredWeight])?
  {
    guard let path = layerGroup(layer.kerasName, index: index), root.contains("\(path)/vars") else {
      return nil
    }
    let group = try root.group("\(path)/vars")
    var out: [StoredWeight] = []
    for child in try group.children(ofKind: .dataset) {
      let dataset = try group.dataset(child)
      if try dataset.hasAttribute("dtype"), (try? dataset.readString(attribute: "dtype")) == "bfloat16" {
        throw AdaError(
          .unsupported, file: root.file.path, path: dataset.path,
          "weight is stored as bfloat16, which adascale does not read; save the model in float32")
      }
      out.append(StoredWeight(name: nil, tensor: try dataset.readTensor(), location: dataset.path))
    }
    return (group.path, out)
  }

  func nested(_ model: KerasArchitecture.NestedModel, index: Int) throws(AdaError) -> NestedKerasWeights? {
    guard let path = layerGroup(model.kerasName, index: index) else { return nil }
    let group = try root.group(path)
    return .source(try KerasV3WeightSource(root: group, modelLayers: model.members), group: group.path)
  }

  func groupsWithWeights() throws(AdaError) -> [String] {
    guard try root.kind(of: "layers") == .group else { return [] }
    var out: [String] = []
    for g in try root.group("layers").children(ofKind: .group) {
      let vars = "layers/\(g)/vars"
      guard try root.kind(of: vars) == .group else { continue }
      let group = try root.group(vars)
      if !(try group.children(ofKind: .dataset)).isEmpty { out.append(group.path) }
    }
    return out
  }
}

/// Keras's `naming.to_snake_case`: `Conv2D` → `conv2d`, `BatchNormalization` →
/// `batch_normalization`, `ReLU` → `re_lu`, `GlobalAveragePooling2D` → `global_average_pooling2d`.
func kerasSnakeCase(_ name: String) -> String {
  func sub(_ s: String, _ pattern: String, _ template: String) -> String {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return s }
    return re.stringByReplacingMatches(
      in: s, range: NSRange(s.startIndex..., in: s), withTemplate: template)
  }
  var s = sub(name, "\\W+", "")
  s = sub(s, "(.)([A-Z][a-z]+)", "$1_$2")
  s = sub(s, "([a-z])([A-Z])", "$1_$2")
  return s.lowercased()
}
