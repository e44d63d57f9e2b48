import AdaBundle
import AdaCompress
import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import Foundation

extension ExitStage {
  /// `run(input)`, resumable: a finished variant's plan and multi-exit model are kept in the
  /// work directory under a key of everything they depend on (the `exits:` settings, the
  /// variant's id, graph and weights, the split sizes), so a rerun of a killed `compress` skips
  /// the variants whose exits were done. A variant that got no exits is recomputed.
  func runResuming(_ input: Input, quantized: QuantizedWeights, work: WorkDirectory) throws(AdaError)
    -> Output
  {
    var h = StableHasher()
    h.combine(json: spec)
    h.combine(input.id)
    h.combine(json: input.model.graph)
    h.combine(input.model.parameters)
    for n in [input.train.count, input.validation.count, input.test.count] { h.combine(UInt64(n)) }
    let base = work.path("exits-\(input.id)-\(h.hexDigest)")
    let (planPath, modelPath) = (base + ".json", base + ".h5")
    if FileManager.default.fileExists(atPath: planPath), FileManager.default.fileExists(atPath: modelPath),
      let data = FileManager.default.contents(atPath: planPath),
      let plan = try? JSONDecoder().decode(Manifest.ExitPlan.self, from: data),
      let model = try? KerasModelReader.load(path: modelPath)
    {
      log.detail("\(input.id): exits resumed from \(base).json")
      return Output(plan: plan, model: model, trials: [])
    }
    let out = try run(input)
    if let plan = out.plan, let model = out.model {
      try KerasModelWriter.save(model, quantized: quantized, to: modelPath)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      guard let data = try? encoder.encode(plan) else {
        throw AdaError(.internalError, file: planPath, "the exit plan cannot be encoded")
      }
      try AtomicFile.write(to: planPath) { (temporary) throws(AdaError) in
        do {
          try data.write(to: URL(fileURLWithPath: temporary))
        } catch {
          throw AdaError(.writeFailed, file: planPath, error.localizedDescription)
        }
      }
    }
    return out
  }
}
