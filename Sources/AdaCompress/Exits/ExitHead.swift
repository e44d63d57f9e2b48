import AdaNN
import AdaTensor

/// The form of an early-exit head (docs/exits.md), as data with a stable string form:
///
/// | form | `[H, W, C]` features | `[C]` features |
/// |---|---|---|
/// | `gap` | GlobalAveragePooling2D → Dense(classes) | Dense(classes) |
/// | `grid:g` | AveragePooling2D to ⌈H/⌈H/g⌉⌉ × ⌈W/⌈W/g⌉⌉ (about g×g, `same` padding) → Flatten → Dense(classes) | Dense(classes) |
/// | `conv:c` | Conv2D(c, 1×1, relu) → GlobalAveragePooling2D → Dense(classes) | Dense(c, relu) → Dense(classes) |
/// | `conv:c:g` | Conv2D(c, 1×1, relu) → the `grid:g` pooling → Flatten → Dense(classes) | as `conv:c` |
///
/// `grid:g` is the Shallow-Deep Networks feature reduction (Kaya et al., 2019: pool to a small
/// grid so a shallow head keeps *where* features fired, which global pooling loses). Every layer
/// here is one the Keras writer writes and Keras loads (`GlobalAveragePooling2D`,
/// `AveragePooling2D`, `Flatten`, `Conv2D`, `Dense`).
///
///     try ExitHead.parse("grid:2")   // .grid(2)
///     ExitHead.conv(32).description  // "conv:32"
public enum ExitHead: Hashable, Sendable, Codable, CustomStringConvertible {
  case gap
  case grid(Int)
  case conv(Int, grid: Int?)

  public static func conv(_ filters: Int) -> ExitHead { .conv(filters, grid: nil) }

  public var description: String {
    switch self {
    case .gap: "gap"
    case .grid(let g): "grid:\(g)"
    case .conv(let c, let g): "conv:\(c)" + (g.map { ":\($0)" } ?? "")
    }
  }

  /// Parses `gap`, `grid:g`, `conv:c` or `conv:c:g` (g, c ≥ 1); the error message says what was
  /// expected (the caller adds the recipe key).
  public static func parse(_ text: String) throws(AdaError) -> ExitHead {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    func positive(_ s: String, _ what: String) throws(AdaError) -> Int {
      guard let v = Int(s), v >= 1 else {
        throw AdaError(.invalidValue, "\(what) must be an integer ≥ 1, found '\(s)' in '\(text)'")
      }
      return v
    }
    switch (parts.first ?? "", parts.count) {
    case ("gap", 1): return .gap
    case ("grid", 2): return .grid(try positive(parts[1], "the grid size"))
    case ("conv", 2): return .conv(try positive(parts[1], "the filter count"), grid: nil)
    case ("conv", 3):
      return .conv(try positive(parts[1], "the filter count"), grid: try positive(parts[2], "the grid size"))
    default:
      throw AdaError(
        .invalidValue, "unknown exit head '\(text)'; expected gap, grid:<g>, conv:<c> or conv:<c>:<g>")
    }
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      self = try Self.parse(text)
    } catch {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: error.message))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }

  /// The pooling window that reduces `h × w` to about `g × g`: ⌈h/g⌉ × ⌈w/g⌉, stride equal,
  /// `same` padding (padded positions are not averaged, as in Keras).
  static func gridPool(h: Int, w: Int, g: Int) -> Pool2DSpec {
    let ph = max(1, (h + g - 1) / g)
    let pw = max(1, (w + g - 1) / g)
    return Pool2DSpec(kind: .average, pool: Size2(ph, pw), padding: .same)
  }

  /// The head's nodes for features of shape `feature` (`[H, W, C]` or `[C]`) read from node
  /// `input`, named `<prefix>_pool`, `<prefix>_conv`, `<prefix>_flatten`, `<prefix>` (the
  /// classifier, last). The classifier ends in `activation`.
  public func nodes(
    reading input: String, feature: [Int], classes: Int, prefix: String, activation: Activation
  ) -> [Node] {
    precondition(feature.count == 3 || feature.count == 1, "ExitHead: features must be [H, W, C] or [C]")
    var nodes: [Node] = []
    var previous = input
    func add(_ suffix: String, _ spec: LayerSpec) {
      let name = suffix.isEmpty ? prefix : "\(prefix)_\(suffix)"
      nodes.append(Node(name: name, spec: spec, inputs: [previous]))
      previous = name
    }
    func gridOrGlobal(_ g: Int?) {
      if let g {
        add("pool", .pool2D(Self.gridPool(h: feature[0], w: feature[1], g: g)))
        add("flatten", .flatten)
      } else {
        add("pool", .globalPool2D(GlobalPool2DSpec(kind: .average)))
      }
    }
    if feature.count == 3 {
      switch self {
      case .gap: gridOrGlobal(nil)
      case .grid(let g): gridOrGlobal(g)
      case .conv(let c, let g):
        add("conv", .conv2D(Conv2DSpec(filters: c, kernel: .square(1), activation: .relu)))
        gridOrGlobal(g)
      }
    } else if case .conv(let c, _) = self {
      add("hidden", .dense(DenseSpec(units: c, activation: .relu)))
    }
    add("", .dense(DenseSpec(units: classes, activation: activation)))
    return nodes
  }

  /// MACs of the head on `feature` (`LayerSpec+Cost`).
  public func macs(feature: [Int], classes: Int) throws(AdaError) -> Int {
    let nodes = self.nodes(reading: "x", feature: feature, classes: classes, prefix: "h", activation: .linear)
    let graph = Graph(
      name: "head", nodes: [Node(name: "x", spec: .input(InputSpec(shape: feature)), inputs: [])] + nodes,
      outputs: [nodes.last!.name])
    return try graph.costs().total.macs
  }
}
