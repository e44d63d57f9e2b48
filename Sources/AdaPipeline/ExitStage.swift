import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaProfile
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation

/// Per-input early exits for one emitted variant (docs/exits.md), after the emit stage:
/// choose sites → capture the frozen backbone's features → train every candidate head form per
/// site → keep one form per site → build the multi-exit model → calibrate thresholds on the
/// validation split per operating point → measure them on the test split → drop the exits no
/// operating point uses → the manifest's `ExitPlan` and the model for `variants/<id>_exits.h5`.
struct ExitStage {
  let spec: Recipe.ExitsSpec
  let recipeFile: String
  let profiling: ProfileOptions
  let log: PipelineLog

  /// A block of the variant where a head may go: its name and the variant nodes that may stand
  /// for its end, preferred first (the block's last node may have been folded away).
  struct Block: Sendable {
    var name: String
    var nodes: [String]
  }

  /// One variant to give exits.
  struct Input: Sendable {
    var id: String
    /// The variant as emitted (folded, quantized weights dequantized).
    var model: Model
    /// Weight bits per node (for the per-op latency table).
    var bits: [String: Int]
    /// Blocks in depth order.
    var blocks: [Block]
    /// The splits as the variant takes them.
    var train: LabeledDataset
    var validation: LabeledDataset
    var test: LabeledDataset
  }

  /// One trained head, for the comparison in logs and docs.
  struct Trial: Sendable {
    var block: String
    var node: String
    var head: ExitHead
    var headMacs: Int
    var backboneMacs: Int
    var validationAccuracy: Double
  }

  struct Output: Sendable {
    var plan: Manifest.ExitPlan?
    var model: Model?
    var trials: [Trial]
  }

  func run(_ input: Input) throws(AdaError) -> Output {
    let model = input.model
    let (classes, _) = try ExitHeads.classifier(of: model)
    let costs = try model.graph.costs()
    let macsByNode = Dictionary(
      uniqueKeysWithValues: zip(model.graph.nodes.map(\.name), costs.perNode.map(\.macs)))
    let variantMacs = costs.total.macs
    let shapes = try model.graph.inferShapes()
    let forms = spec.head.forms
    let started = Date()

    // 1. Sites.
    func usable(_ node: String) -> Bool {
      guard let s = shapes[node], s.count == 3 || s.count == 1 else { return false }
      return !model.graph.outputs.contains(node)
    }
    func backboneMacs(_ node: String) -> Int {
      ancestors(of: [node], in: model.graph).reduce(0) { $0 + (macsByNode[$1] ?? 0) }
    }
    var sites: [(block: String, node: String)] = []
    switch spec.after {
    case .auto:
      for block in input.blocks.dropLast() {
        guard let node = block.nodes.first(where: usable) else { continue }
        let cheapest = forms.compactMap { try? $0.macs(feature: shapes[node]!, classes: classes) }.min() ?? 0
        if backboneMacs(node) + cheapest < variantMacs { sites.append((block.name, node)) }
      }
    case .named(let names):
      for (i, name) in names.enumerated() {
        if let block = input.blocks.first(where: { $0.name == name }) {
          guard let node = block.nodes.first(where: usable) else {
            throw AdaError(
              .invalidValue, file: recipeFile, path: "exits.after[\(i)]",
              "block '\(name)' has no node with [H, W, C] or [C] features in variant \(input.id)")
          }
          sites.append((name, node))
        } else if usable(name) {
          sites.append((name, name))
        } else {
          throw AdaError(
            .invalidValue, file: recipeFile, path: "exits.after[\(i)]",
            "no block named '\(name)' in variant \(input.id) (blocks: "
              + input.blocks.map(\.name).joined(separator: ", ") + ")")
        }
      }
    }
    let order = model.graph.indexByName
    sites.sort { order[$0.node]! < order[$1.node]! }
    var seen = Set<String>()
    sites = sites.filter { seen.insert($0.node).inserted }
    guard !sites.isEmpty else {
      log.detail("\(input.id): no block where an exit costs less than the variant's output; no exits")
      return Output(plan: nil, model: nil, trials: [])
    }

    // 2. Features of the frozen backbone, in inference mode, once.
    let options = spec.training
    let bytesPerExample = sites.reduce(0) { $0 + shapes[$1.node]!.reduce(4, *) }
    let n = max(1, min(input.train.count, options.examples, options.maxCacheBytes / max(bytesPerExample, 1)))
    let trainIndices = Array(0..<n)
    let trainX = try input.train.examples(at: trainIndices)
    let trainY = trainIndices.map { input.train.labels[$0] }
    let nodes = sites.map(\.node)
    let train = try ExitHeadTraining.capture(model, nodes: nodes, inputs: trainX)
    let valX = try input.validation.examples(at: Array(0..<input.validation.count))
    let valY = input.validation.labels
    let val = try ExitHeadTraining.capture(model, nodes: nodes, inputs: valX)
    let captured = Date()

    // 3. Train each form at each site; keep one form per site.
    var trials: [Trial] = []
    var chosen: [ExitHeads.Site] = []
    var weights = Parameters()
    var headAccuracy: [String: Double] = [:]
    for (k, site) in sites.enumerated() {
      var results: [(trial: Trial, weights: Parameters)] = []
      for form in forms {
        let w = try ExitHeadTraining.train(
          form, node: site.node, features: train.features[k], labels: trainY, teacherLogits: train.logits,
          options: options)
        let accuracy = try ExitHeadTraining.accuracy(
          form, node: site.node, weights: w, features: val.features[k], labels: valY, classes: classes)
        let trial = Trial(
          block: site.block, node: site.node, head: form,
          headMacs: try form.macs(feature: shapes[site.node]!, classes: classes),
          backboneMacs: backboneMacs(site.node), validationAccuracy: accuracy)
        log.detail(
          String(
            format: "%@ exit after %@ (%@): %@ head %.2f%% validation, %d head MACs (backbone %d of %d)",
            input.id, site.block, site.node, form.description, accuracy * 100, trial.headMacs,
            trial.backboneMacs,
            variantMacs))
        results.append((trial, w))
        trials.append(trial)
      }
      let pick = Self.pick(results.map(\.trial))
      if forms.count > 1 {
        log.detail("\(input.id) exit after \(site.block): keeping \(results[pick].trial.head)")
      }
      chosen.append(ExitHeads.Site(block: site.block, node: site.node, head: results[pick].trial.head))
      headAccuracy[site.node] = results[pick].trial.validationAccuracy
      for (key, t) in results[pick].weights.tensors { weights.tensors[key] = t }
    }

    // 4. Calibrate on validation, measure on test.
    let trained = Date()
    let full = try ExitHeads(sites: chosen, weights: weights).apply(to: model)
    let valObs = try observations(full, on: input.validation)
    let testObs = try observations(full, on: input.test)
    let macCosts = try exitCosts(full, sites: chosen, perNode: { macsByNodeOf(full)[$0] ?? 0 })
    var profileOptions = profiling
    profileOptions.measureEndToEnd = false
    profileOptions.bits = input.bits
    let profile = try Profiler.profile(
      graph: full.graph, parameters: full.parameters, options: profileOptions)
    var msByNode: [String: Double] = [:]
    for (op, term) in zip(profile.ops, profile.terms) { msByNode[op.node, default: 0] += term.totalMs }
    let latencyCosts = try exitCosts(full, sites: chosen, perNode: { msByNode[$0] ?? 0 })

    var fitted: [(name: String, target: ThresholdCalibration.Target, outcome: ThresholdCalibration.Outcome)] =
      []
    for (name, target) in spec.targets {
      let o = ThresholdCalibration.calibrate(target, valObs, macCosts)
      guard o.feasible else {
        log.detail(
          "\(input.id): operating point \(name) cannot be met (even the first exit costs more); skipped")
        continue
      }
      fitted.append((name, target, o))
    }
    // 5. Keep the exits some operating point uses.
    let kept = (0..<chosen.count).filter { k in fitted.contains { $0.outcome.thresholds[k] != nil } }
    guard !kept.isEmpty else {
      log.detail("\(input.id): no operating point uses an exit; no exits")
      return Output(plan: nil, model: nil, trials: trials)
    }
    let keptSites = kept.map { chosen[$0] }
    let multi = try ExitHeads(sites: keptSites, weights: weights).apply(to: model)
    let (vObs, tObs) = (valObs.keeping(kept), testObs.keeping(kept))
    let (mCosts, lCosts) = (macCosts.keeping(kept), latencyCosts.keeping(kept))
    var points: [Manifest.OperatingPoint] = []
    for f in fitted {
      let t = kept.map { f.outcome.thresholds[$0] }
      let v = ThresholdCalibration.evaluate(t, vObs, mCosts)
      let test = ThresholdCalibration.evaluate(t, tObs, mCosts)
      let latency = ThresholdCalibration.evaluate(t, vObs, lCosts).expectedCost
      let (kind, value): (Manifest.OperatingPoint.Kind, Double) =
        switch f.target {
        case .accuracyDrop(let d): (.accuracyDrop, d)
        case .budget(let b): (.budget, b)
        }
      points.append(
        Manifest.OperatingPoint(
          name: f.name, kind: kind, target: value, thresholds: t, exitRates: v.exitRates,
          expectedMacs: v.expectedCost, expectedLatencyMs: latency, validationAccuracy: v.accuracy,
          testAccuracy: test.accuracy, testExitRates: test.exitRates, testExpectedMacs: test.expectedCost,
          validationSwaps: Double(v.swapped) / Double(max(vObs.count, 1))))
      log.detail(
        String(
          format: "%@ %@: validation %.2f%% (static %.2f%%), test %.2f%% (static %.2f%%), "
            + "expected MACs %.0f = %.2f× the variant's (test %.2f×), exits %@",
          input.id, f.name, v.accuracy * 100,
          Double(valObs.finalCorrect.filter { $0 }.count) / Double(valObs.count) * 100,
          test.accuracy * 100, Double(testObs.finalCorrect.filter { $0 }.count) / Double(testObs.count) * 100,
          v.expectedCost, v.expectedCost / Double(variantMacs), test.expectedCost / Double(variantMacs),
          t.map { $0.map { String(format: "%.3f", $0) } ?? "off" }.joined(separator: ",")))
    }
    log.detail(
      String(
        format: "%@: exits in %.1f s (features of %d training examples %.1f s, %d heads %.1f s, "
          + "calibration and test %.1f s)", input.id, Date().timeIntervalSince(started), n,
        captured.timeIntervalSince(started), trials.count, trained.timeIntervalSince(captured),
        Date().timeIntervalSince(trained)))
    var exits: [Manifest.Exit] = []
    var headsMacs = 0.0
    var headsMs = 0.0
    for (j, site) in keptSites.enumerated() {
      headsMacs += mCosts.head[j]
      headsMs += lCosts.head[j]
      exits.append(
        Manifest.Exit(
          output: site.output, block: site.block, node: site.node, head: site.head.description,
          macs: Int(mCosts.backbone[j] + headsMacs), headMacs: Int(mCosts.head[j]),
          predictedLatencyMs: lCosts.backbone[j] + headsMs, headPredictedLatencyMs: lCosts.head[j],
          validationAccuracy: headAccuracy[site.node] ?? 0))
    }
    var plan = Manifest.ExitPlan(
      file: BundleWriter.exitVariantFile(id: input.id), confidence: spec.confidence, exits: exits,
      finalMacs: Int(mCosts.final + headsMacs), finalPredictedLatencyMs: lCosts.final + headsMs,
      operatingPoints: points)
    // 6. Measured batch-1 latency per input, against the static variant in the same rounds.
    let measured = try ExitLatencyProbe().measure(variant: model, multi: multi, plan: plan, test: input.test)
    plan.measuredStaticLatencyMs = measured.staticMs
    plan.staticValidationAccuracy =
      Double(valObs.finalCorrect.filter { $0 }.count) / Double(max(valObs.count, 1))
    for k in plan.operatingPoints.indices { plan.operatingPoints[k].measuredLatencyMs = measured.pointMs[k] }
    log.detail(
      "\(input.id): measured per input at batch 1: static "
        + String(format: "%.4f ms", measured.staticMs) + "; "
        + zip(plan.operatingPoints, measured.pointMs).map { p, ms in
          String(format: "%@ %.4f ms (%.2f×)", p.name, ms, measured.staticMs / max(ms, 1e-12))
        }.joined(separator: ", "))
    return Output(plan: plan, model: multi, trials: trials)
  }

  /// Seconds the stage is expected to take for one variant, for a budget's emit reserve
  /// (docs/exits.md "Cost"): the variant run over the captured training examples, the
  /// validation and the test split — `testEvaluationSeconds` is the *source's* test evaluation,
  /// and an emitted variant costs 0.45 of it on average, as the emit reserve assumes — plus the
  /// heads' training, `headSeconds` per form and exit (Dense-only forms on cached pooled
  /// features; a `conv:` form trains a convolution over full features and counts 8×).
  static func reserveSeconds(
    _ spec: Recipe.ExitsSpec, testEvaluationSeconds: Double, trainCount: Int, validationCount: Int,
    testCount: Int, exitsPerVariant: Int = 2
  ) -> Double {
    let examples = Double(min(trainCount, spec.training.examples) + validationCount + testCount)
    let passes = examples / Double(max(testCount, 1))
    let formCost = spec.head.forms.reduce(0.0) { total, form in
      if case .conv = form { return total + 8 }
      return total + 1
    }
    let epochsFactor =
      Double(spec.training.epochs) / 3 * Double(min(trainCount, spec.training.examples)) / 10000
    return 0.45 * testEvaluationSeconds * passes + headSeconds * formCost * epochsFactor
      * Double(exitsPerVariant)
  }

  /// Measured: a Dense-only head form, 3 epochs over 10 000 cached examples, 0.05–0.15 s on
  /// 2 shared cores (docs/exits.md); the 15 heads of the MobileNet recipe, 6 of them `conv:`,
  /// took 7–10 s, which 0.15 × (9 + 6 × 8) ≈ 8.6 s matches.
  static let headSeconds = 0.15

  /// The ids of the emitted variants `variants` names.
  static func selected(
    _ variants: Recipe.ExitsSpec.Variants, from entries: [Manifest.Variant], recipeFile: String
  )
    throws(AdaError) -> Set<String>
  {
    switch variants {
    case .all:
      return Set(entries.map(\.id))
    case .largest(let n):
      return Set(entries.sorted { ($0.macs, $0.id) > ($1.macs, $1.id) }.prefix(n).map(\.id))
    case .named(let ids):
      for (i, id) in ids.enumerated() where !entries.contains(where: { $0.id == id }) {
        throw AdaError(
          .invalidValue, file: recipeFile, path: "exits.variants[\(i)]",
          "no emitted variant '\(id)' (emitted: \(entries.map(\.id).joined(separator: ", ")))")
      }
      return Set(ids)
    }
  }

  /// The supernet blocks that run in `config`, in depth order, each with the variant nodes
  /// that may stand for its end: the block's last node, else the nearest earlier node of the
  /// block that the variant still has (batch-norm is folded away), else the last variant node
  /// named `<block>_…` (a branch operator's nodes).
  static func blocks(of supernet: Supernet, config: SubnetConfig, variant: Graph) -> [Block] {
    let source = supernet.source.graph
    let index = source.indexByName
    let present = Set(variant.nodes.map(\.name))
    return supernet.materializedBlocks(of: config).compactMap { name in
      guard let block = supernet.block(name), let first = index[block.name], let last = index[block.end]
      else {
        return nil
      }
      var nodes = source.nodes[first...last].reversed().map(\.name).filter(present.contains)
      nodes += variant.nodes.reversed().map(\.name).filter { $0.hasPrefix(name + "_") && !nodes.contains($0) }
      return Block(name: name, nodes: nodes)
    }
  }

  /// The form kept at one site among trials of it: the cheapest (head MACs) whose validation
  /// accuracy is within `ExitsSpec.autoTolerance` of the best there.
  static func pick(_ trials: [Trial]) -> Int {
    let best = trials.map(\.validationAccuracy).max() ?? 0
    let close = trials.indices.filter {
      trials[$0].validationAccuracy >= best - Recipe.ExitsSpec.autoTolerance
    }
    return close.min { (trials[$0].headMacs, $0) < (trials[$1].headMacs, $1) }!
  }

  /// Per input: each exit's confidence and correctness, and the final output's correctness.
  func observations(_ multi: Model, on data: LabeledDataset) throws(AdaError) -> ExitObservations {
    let executor = try Executor(graph: multi.graph)
    // Every output ends as the variant's does (ExitHeads): probabilities iff it ends in softmax.
    let probability =
      try ExitHeads.classifier(
        of: Model(
          graph: multi.graph.keepingOnly(outputs: [multi.graph.outputs.last!]), parameters: multi.parameters)
      ).activation == .softmax
    let exits = multi.graph.outputs.count - 1
    var confidence = [[Float]](repeating: [], count: exits)
    var correct = [[Bool]](repeating: [], count: exits)
    var finalCorrect: [Bool] = []
    // In chunks, so a large split (resized images) is never held whole.
    for start in stride(from: 0, to: data.count, by: 1024) {
      let indices = Array(start..<min(start + 1024, data.count))
      let outs = executor.predict(
        try data.examples(at: indices), parameters: multi.parameters, batchSize: 256)
      func right(_ t: Tensor) -> [Bool] {
        t.argmaxRows().enumerated().map { $0.element == Int(data.labels[indices[$0.offset]]) }
      }
      for k in 0..<exits {
        confidence[k] += spec.confidence.scores(outs[k], isProbability: probability)
        correct[k] += right(outs[k])
      }
      finalCorrect += right(outs[exits])
    }
    return ExitObservations(confidence: confidence, correct: correct, finalCorrect: finalCorrect)
  }

  /// Calibration costs of a multi-exit model under a per-node cost: per exit, the backbone
  /// nodes it needs (the ancestors of the node it reads) and its head's nodes; the final output
  /// needs the ancestors of the variant's own output.
  func exitCosts(_ multi: Model, sites: [ExitHeads.Site], perNode: (String) -> Double) throws(AdaError)
    -> ExitCosts
  {
    let graph = multi.graph
    var backbone: [Double] = []
    var head: [Double] = []
    for site in sites {
      let needed = ancestors(of: [site.node], in: graph)
      let withHead = ancestors(of: [site.output], in: graph)
      backbone.append(needed.reduce(0) { $0 + perNode($1) })
      head.append(withHead.subtracting(needed).reduce(0) { $0 + perNode($1) })
    }
    let final = ancestors(of: [graph.outputs.last!], in: graph).reduce(0) { $0 + perNode($1) }
    return ExitCosts(backbone: backbone, head: head, final: final)
  }

  func macsByNodeOf(_ model: Model) -> [String: Double] {
    guard let costs = try? model.graph.costs() else { return [:] }
    return Dictionary(
      uniqueKeysWithValues: zip(model.graph.nodes.map(\.name), costs.perNode.map { Double($0.macs) }))
  }
}

/// The nodes `targets` read, directly or not, and the targets themselves.
func ancestors(of targets: [String], in graph: Graph) -> Set<String> {
  let inputs = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0.inputs) })
  var seen = Set<String>()
  var stack = targets
  while let n = stack.popLast() {
    guard seen.insert(n).inserted else { continue }
    stack += inputs[n] ?? []
  }
  return seen
}
