import AdaNN
import AdaTensor

/// Which channels of a graph can be removed, and which must be removed together.
///
/// Every output channel of every Conv2D and Dense node (a *producer*) is an *atomic channel*
/// with an integer id. Walking the graph in order, each node's output gets a *channel map*: for
/// each index of its last axis, the atomic channel it carries, or nil when it carries none that
/// may be removed (it comes from the model input, or a layer whose channels are not prunable).
///
/// - Per-channel layers (batch-norm, activations, ReLU, pooling, global pooling, dropout,
///   zero-padding, rescaling) pass the map through. Normalization and per-channel rescaling pass
///   it through but fix their channels (their per-channel constants are not sliced).
/// - DepthwiseConv2D with multiplier m: output `c·m + j` carries input channel `c`.
/// - Flatten of `[d₁, …, C]`: output `p·C + c` carries input channel `c` (`p` runs over the
///   leading positions, e.g. `h·W + w`), so a following Dense loses the matching rows.
/// - Concatenate on the last axis joins the maps; on another axis (and Add, Multiply) the inputs'
///   channels at each index are *coupled*: merged into one class (union–find), removed together.
///   Add/Multiply broadcast: inputs one channel wide (broadcast over channels) are fixed, the
///   others coupled; a squeeze-excite gate `[1, 1, C]` couples with the `[H, W, C]` it scales.
/// - Channels reaching a model output, a Reshape or a softmax (which mixes channels) are *fixed*.
///
/// A *class* (union–find root) is the unit of removal; a *component* is a set of producers linked
/// by shared classes (a residual stage), pruned with one shared keep-set.
struct ChannelCoupling {
  /// Conv2D and Dense nodes, in graph order.
  let producers: [String]
  /// First atomic id and width of each producer.
  let offset: [String: Int]
  let width: [String: Int]
  /// Each node's output channel map (last axis).
  let maps: [String: [Int?]]
  /// Per-example output shape of each node.
  let shapes: [String: [Int]]
  /// For atomic channels read by a batch-norm with `gamma`: that node and channel (first in
  /// graph order), for `.batchNormGamma` importance.
  let batchNormSource: [Int: (node: String, channel: Int)]
  /// Classes of atomic channels; read through `classOf`, `isFixed`.
  private let classes: ChannelClasses

  init(graph: Graph) throws(AdaError) {
    let shapes = try graph.inferShapes()
    self.shapes = shapes
    var producers: [String] = []
    var offset: [String: Int] = [:]
    var width: [String: Int] = [:]
    var total = 0
    for node in graph.nodes {
      switch node.spec {
      case .conv2D, .dense:
        producers.append(node.name)
        offset[node.name] = total
        width[node.name] = shapes[node.name]!.last!
        total += width[node.name]!
      default: break
      }
    }
    self.producers = producers
    self.offset = offset
    self.width = width
    var classes = ChannelClasses(count: total)
    var maps: [String: [Int?]] = [:]
    var bnSource: [Int: (node: String, channel: Int)] = [:]
    for node in graph.nodes {
      let ins = node.inputs.map { maps[$0]! }
      let out: [Int?]
      switch node.spec {
      case .input:
        out = Array(repeating: nil, count: shapes[node.name]!.last!)
      case .conv2D(let s):
        out = Array(offset[node.name]!..<(offset[node.name]! + width[node.name]!))
        if s.activation == .softmax { classes.fix(out) }
      case .dense(let s):
        out = Array(offset[node.name]!..<(offset[node.name]! + width[node.name]!))
        if s.activation == .softmax { classes.fix(out) }
      case .depthwiseConv2D(let s):
        out = ins[0].flatMap { Array(repeating: $0, count: s.depthMultiplier) }
        if s.activation == .softmax { classes.fix(out) }
      case .batchNorm(let s):
        out = ins[0]
        if s.scale {
          for (c, a) in out.enumerated() {
            if let a, bnSource[a] == nil { bnSource[a] = (node.name, c) }
          }
        }
      case .rescaling(let s) where s.isPerChannel:
        // Per-channel factors are not sliced by pruning: keep these channels.
        classes.fix(ins[0])
        out = ins[0]
      case .dropout(let s) where (s.noiseShape?.last ?? -1) > 1:
        // A noise shape naming the channel count would no longer fit a pruned input.
        classes.fix(ins[0])
        out = ins[0]
      case .normalization:
        // Its mean/variance are per channel and not sliced by pruning: keep these channels.
        classes.fix(ins[0])
        out = ins[0]
      case .relu, .pool2D, .globalPool2D, .dropout, .zeroPadding2D, .rescaling:
        out = ins[0]
      case .activation(let a) where a != .softmax:
        out = ins[0]
      case .flatten:
        let positions = shapes[node.inputs[0]]!.dropLast().elementCount
        out = Array((0..<positions).map { _ in ins[0] }.joined())
      case .add, .multiply:
        // Broadcasting: an input one channel wide (scaling every channel) is fixed; inputs as
        // wide as the output are coupled channel by channel (e.g. a squeeze-excite gate
        // [1, 1, C] and the features [H, W, C] it scales).
        let width = shapes[node.name]!.last!
        for m in ins where m.count != width { classes.fix(m) }
        out = classes.unify(ins.filter { $0.count == width })
      case .concatenate(let s):
        let rank = shapes[node.inputs[0]]!.count
        let axis = s.axis < 0 ? s.axis + rank : s.axis
        out = axis == rank - 1 ? Array(ins.joined()) : classes.unify(ins)
      case .activation, .softmax, .reshape, .separableConv2D:
        // Softmax mixes channels, Reshape moves them, SeparableConv2D outputs are not producers.
        for m in ins { classes.fix(m) }
        out = Array(repeating: nil, count: shapes[node.name]!.last!)
      }
      maps[node.name] = out
    }
    for o in graph.outputs { classes.fix(maps[o]!) }
    self.maps = maps
    self.classes = classes
    batchNormSource = bnSource
  }

  // MARK: Queries

  /// The class (union–find root) of an atomic channel.
  func classOf(_ a: Int) -> Int { classes.root(a) }

  func isFixed(class root: Int) -> Bool { classes.fixedRoots.contains(root) }

  /// Atomic ids of a producer's output channels.
  func atoms(of producer: String) -> Range<Int> { offset[producer]!..<(offset[producer]! + width[producer]!) }

  /// Classes of a producer's channels that may be removed.
  func prunableClasses(of producer: String) -> Set<Int> {
    Set(atoms(of: producer).map(classOf).filter { !isFixed(class: $0) })
  }

  /// Producers grouped into components (linked by shared classes), each in graph order.
  func components() -> [[String]] {
    var producerOfClass: [Int: String] = [:]
    var link: [String: String] = Dictionary(uniqueKeysWithValues: producers.map { ($0, $0) })
    func root(_ p: String) -> String {
      var p = p
      while link[p]! != p { p = link[p]! }
      return p
    }
    for p in producers {
      for a in atoms(of: p) {
        let c = classOf(a)
        if let q = producerOfClass[c] { link[root(p)] = root(q) } else { producerOfClass[c] = p }
      }
    }
    var groups: [String: [String]] = [:]
    var order: [String] = []
    for p in producers {
      let r = root(p)
      if groups[r] == nil { order.append(r) }
      groups[r, default: []].append(p)
    }
    return order.map { groups[$0]! }
  }

  /// Indices of `node`'s output last axis that survive when the classes in `removed` go.
  func keptIndices(of node: String, removing removed: Set<Int>) -> [Int] {
    maps[node]!.indices.filter { i in
      guard let a = maps[node]![i] else { return true }
      return !removed.contains(classOf(a))
    }
  }

}

/// Union–find over atomic channel ids, with the set of classes that may not be removed.
struct ChannelClasses {
  private var parent: [Int]
  private(set) var fixedRoots: Set<Int> = []

  init(count: Int) { parent = Array(0..<count) }

  func root(_ a: Int) -> Int {
    var a = a
    while parent[a] != a { a = parent[a] }
    return a
  }

  /// Marks every channel in `map` as not removable.
  mutating func fix(_ map: [Int?]) {
    for case let a? in map { fixedRoots.insert(root(a)) }
  }

  /// Couples the channels at each index of equally wide maps; returns the first map.
  mutating func unify(_ maps: [[Int?]]) -> [Int?] {
    let first = maps[0]
    for m in maps.dropFirst() {
      precondition(m.count == first.count, "ChannelClasses: coupled maps differ in width")
      for i in m.indices {
        switch (first[i], m[i]) {
        case let (a?, b?): union(a, b)
        case let (a?, nil), let (nil, a?): fixedRoots.insert(root(a))
        case (nil, nil): break
        }
      }
    }
    return first
  }

  private mutating func union(_ a: Int, _ b: Int) {
    let (ra, rb) = (root(a), root(b))
    guard ra != rb else { return }
    parent[rb] = ra
    if fixedRoots.remove(rb) != nil { fixedRoots.insert(ra) }
  }
}
