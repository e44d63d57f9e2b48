import AdaNN
import AdaTensor

extension Supernet {
  /// A configuration as its differences from the source, short enough for a table cell; the
  /// full configuration (`SubnetConfig.description`) goes in the manifest.
  ///
  ///     e=3 ×12, e=4 ×2 · depth 1/0/2 of 2/3/2 · 24×24 input · block_11_expand low-rank:0.25 · 8-bit ×5
  ///
  /// A narrowed 1×1 layer that widens its input (the expansion of an inverted-residual block)
  /// reads as its expansion ratio `e` = kept channels / input channels; other narrowed blocks
  /// as their width `w`. Blocks that do not run (cut off by an exit, or in a skipped unit) are
  /// left out; identical settings are counted (`×12`) rather than listed.
  public func summary(_ config: SubnetConfig) -> String {
    let running = Set(materializedBlocks(of: config))
    let shapes = (try? source.graph.inferShapes()) ?? [:]
    var widths = Grouping()
    var bits = Grouping()
    var branches: [String] = []
    for (choice, block) in zip(config.blocks, blocks) where running.contains(block.name) {
      if choice.width != 1 { widths.add(widthLabel(block, choice.width, shapes: shapes), block.name) }
      if choice.branch != SubnetConfig.baseBranch { branches.append("\(block.name) \(choice.branch)") }
      if choice.bits != 32 { bits.add("\(choice.bits)-bit", block.name) }
    }
    var parts: [String] = []
    if !widths.isEmpty { parts.append(widths.text) }
    let full = stages.map(\.units.count)
    if config.depths.count == full.count, config.depths != full {
      let list = { (d: [Int]) in d.map(String.init).joined(separator: "/") }
      parts.append("depth \(list(config.depths)) of \(list(full))")
    }
    if let r = config.resolution, r != sourceResolution { parts.append("\(r)×\(r) input") }
    parts += branches
    if !bits.isEmpty { parts.append(bits.text) }
    if config.exit != SubnetConfig.mainExit { parts.append("exit \(config.exit)") }
    return parts.isEmpty ? "source" : parts.joined(separator: " · ")
  }

  /// `e=3` for the expansion of an inverted-residual block (a widening 1×1 convolution that
  /// feeds a depthwise one), else `w=0.5`.
  private func widthLabel(_ block: SupernetBlock, _ width: Double, shapes: [String: [Int]]) -> String {
    if let node = source.graph.node(named: block.name), case .conv2D(let spec) = node.spec,
      spec.kernel == .square(1), let input = node.inputs.first, let cIn = shapes[input]?.last,
      cIn < block.channels, feedsDepthwise(block.end)
    {
      let e = Double(block.keptChannels(width)) / Double(cIn)
      return "e=" + String(format: "%.3g", e)
    }
    return "w=" + formatWidth(width)
  }

  /// Whether `name` is read by a depthwise convolution, directly or through a zero padding.
  private func feedsDepthwise(_ name: String) -> Bool {
    source.graph.nodes.contains { node in
      guard node.inputs.contains(name) else { return false }
      switch node.spec {
      case .depthwiseConv2D: return true
      case .zeroPadding2D: return feedsDepthwise(node.name)
      default: return false
      }
    }
  }
}

/// Labels with the blocks that carry them, in order of first appearance.
private struct Grouping {
  var labels: [String] = []
  var members: [String: [String]] = [:]

  var isEmpty: Bool { labels.isEmpty }

  mutating func add(_ label: String, _ block: String) {
    if members[label] == nil { labels.append(label) }
    members[label, default: []].append(block)
  }

  /// `block_3 w=0.5` for a label one block carries, `e=3 ×12` for several.
  var text: String {
    labels.map { label in
      let names = members[label]!
      return names.count == 1 ? "\(names[0]) \(label)" : "\(label) ×\(names.count)"
    }.joined(separator: ", ")
  }
}
