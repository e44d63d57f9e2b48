import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaCore
import AdaProfile
import AdaRecipe
import AdaSearch
import AdaTensor
import Foundation

/// The last step of `compress`: what the stages produced, as the bundle's manifest, report data
/// and contents (docs/bundle.md).
struct ManifestBuilder {
  let recipe: Recipe
  let options: CompressPipeline.Options
  let source: SourceStage.Result
  let trained: SupernetTrainingResult
  let searched: SearchStage.Result
  let reference: HypervolumeReference
  let emitted: [EmitStage.Emitted]
  /// Summaries of the picked configurations whose fine-tune left them below the accuracy floor.
  let notShipped: [String]
  /// Fine-tune epochs each variant got: the recipe's, or fewer under a budget.
  let finetuneEpochs: Int
  let emitSeconds: Double
  let started: Date

  var supernetSeconds: Double { trained.history.reduce(0) { $0 + $1.seconds } }

  func report(overhead: ReportData.TrainingOverhead?) -> ReportData {
    ReportData(
      history: searched.search.history.map {
        ReportData.Generation(
          generation: $0.generation, evaluations: $0.evaluations, frontSize: $0.frontSize,
          hypervolume: $0.hypervolume)
      },
      randomSearch: searched.random.map {
        ReportData.RandomSearch(
          evaluations: $0.evaluations, hypervolume: $0.hypervolume(reference: reference))
      },
      overhead: overhead, sourceAccuracy: source.accuracy, sourceLatencyMs: source.latencyMs, notes: notes)
  }

  var notes: [String] {
    var notes = trained.history.map {
      String(
        format: "supernet epoch %d: validation accuracy largest %.2f%%, smallest %.2f%%", $0.epoch,
        $0.largestAccuracy * 100, $0.smallestAccuracy * 100)
    }
    notes.append("search stopped: \(searched.search.stopReason.rawValue)")
    if options.compareRandom, recipe.search.algorithm == .nsga2, searched.random == nil {
      notes.append(
        "no random-search comparison: the budget's search share went to NSGA-II's generations (docs/algorithms.md)"
      )
    }
    let o = recipe.output
    if o.finetuneEpochs > 0 {
      var text =
        finetuneEpochs == 0
        ? "the budget left no time for the recipe's \(o.finetuneEpochs)-epoch fine-tune: the variants ship as the supernet left them"
        : String(
          format:
            "every variant was fine-tuned %d epoch(s)%@ (Adam from %g, cosine), distilled from the source at its own resolution",
          finetuneEpochs,
          finetuneEpochs < o.finetuneEpochs
            ? " of the recipe's \(o.finetuneEpochs), as the budget allowed" : "",
          o.finetuneLearningRate)
      if o.finetuneSlack > 0 {
        text += String(
          format:
            "; the search kept configurations up to %.1f points below the accuracy floor, each held to the floor on its fine-tuned validation accuracy",
          o.finetuneSlack * 100)
      }
      notes.append(text)
      if !notShipped.isEmpty {
        notes.append(
          "not shipped, below the floor after the fine-tune: "
            + notShipped.map { "`\($0)`" }.joined(separator: "; "))
      }
    }
    notes.append("energy is modelled from device power constants (recipes/devices), not measured")
    return notes
  }

  func manifest(budget: Manifest.Budget?) throws(AdaError) -> Manifest {
    let fingerprint = MachineFingerprint.current(threads: 1, version: options.version)
    let model = source.model
    let data = source.data
    let search = searched.search
    return Manifest(
      toolVersion: options.version, createdAt: ISO8601DateFormatter().string(from: Date()),
      source: Manifest.SourceModel(
        file: source.baseline.file, sha256: try SHA256.hex(file: source.baseline.file),
        params: try model.graph.costs().total.params, macs: try model.graph.costs().total.macs,
        accuracy: source.accuracy, latencyMs: source.latencyMs),
      recipe: Manifest.RecipeInfo(name: recipe.name, file: recipe.file, sha256: SHA256.hex(recipe.text)),
      seed: recipe.search.seed,
      host: Manifest.HostInfo(
        cpu: fingerprint.cpuModel, cores: ProcessInfo.processInfo.activeProcessorCount,
        blas: "OpenBLAS \(fingerprint.blasCore)", threads: 1),
      dataset: Manifest.DatasetInfo(
        name: data.name, trainExamples: data.train.count, validationExamples: data.validation.count,
        searchValidationExamples: data.searchValidation.count < data.validation.count
          ? data.searchValidation.count : nil,
        testExamples: data.test.count),
      timings: Manifest.Timings(
        baselineSeconds: source.baseline.trainingSeconds, supernetSeconds: supernetSeconds,
        searchSeconds: searched.seconds, emitSeconds: emitSeconds,
        totalSeconds: Date().timeIntervalSince(started)),
      search: Manifest.SearchInfo(
        algorithm: search.algorithm, evaluations: search.evaluations, generations: search.generations,
        paretoSize: search.front.count, hypervolume: search.hypervolume(reference: reference)),
      devices: source.devices.map(\.name),
      contexts: recipe.targets.contexts,
      variants: emitted.map(\.entry),
      preprocessing: Manifest.Preprocessing(
        data.preparation, inputShape: model.graph.inputShape, pixels: data.test.storage.holdsPixels),
      budget: budget)
  }

  /// The bundle: the manifest, every variant's files, the lookup table, and the per-op table
  /// (each op row once, from the first variant that measured it).
  func contents(manifest: Manifest, report: ReportData) -> BundleContents {
    var table = emitted[0].opTable
    for e in emitted.dropFirst() {
      for row in e.opTable.rows where table.row(key: row.key, device: row.device) == nil {
        table.rows.append(row)
      }
    }
    return BundleContents(
      manifest: manifest, variants: emitted.map(\.payload), lut: LookupTable(rows: emitted.flatMap(\.rows)),
      opsTable: table, report: report, formats: recipe.output.formats)
  }
}
