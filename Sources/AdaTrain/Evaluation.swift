import AdaNN
import AdaTensor

/// Loss and accuracy of a model on a dataset (inference mode).
public struct Evaluation: Codable, Hashable, Sendable {
  /// Mean loss per example.
  public var loss: Double
  /// Fraction of examples whose top prediction (first output) is the label.
  public var accuracy: Double
  public var count: Int
}

extension Trainer {
  /// Loss (this trainer's objective, without distillation) and accuracy of `model` on `dataset`,
  /// in inference mode (batch-norm moving statistics, no dropout), `batchSize` examples at a time.
  public func evaluate(_ model: Model, on dataset: LabeledDataset, batchSize: Int) throws(AdaError)
    -> Evaluation
  {
    try Self.evaluate(model, on: dataset, batchSize: batchSize, objective: objective)
  }

  /// As `evaluate(_:on:batchSize:)`, with an explicit objective.
  public static func evaluate(
    _ model: Model, on dataset: LabeledDataset, batchSize: Int, objective: any TrainingObjective
  ) throws(AdaError) -> Evaluation {
    guard batchSize >= 1 else {
      throw AdaError(.invalidValue, path: "batchSize", "expected ≥ 1, found \(batchSize)")
    }
    try model.validate()
    try FitSetup.check(dataset, against: model.graph, name: "model")
    let split = model.graph.splittingFinalSoftmax()
    let executor = try Executor(graph: split.graph)
    var buffer = BatchBuffer(exampleShape: dataset.exampleShape)
    return try evaluateBatches(
      executor: executor, logits: split.softmaxRemoved, parameters: model.parameters, dataset: dataset,
      indices: Array(0..<dataset.count), batchSize: batchSize, objective: objective, buffer: &buffer)
  }
}

/// Example-weighted mean loss and accuracy over `indices`, in batches through `buffer`.
func evaluateBatches(
  executor: Executor, logits: [Bool], parameters: Parameters, dataset: LabeledDataset,
  indices: [Int], batchSize: Int, objective: any TrainingObjective, buffer: inout BatchBuffer
) throws(AdaError) -> Evaluation {
  var lossSum = 0.0
  var correct = 0
  for start in stride(from: 0, to: indices.count, by: batchSize) {
    let batch = indices[start..<min(start + batchSize, indices.count)]
    try buffer.fill(from: dataset, indices: batch)
    let outputs = executor.predict(buffer.images, parameters: parameters)
    let result = objective.evaluate(
      ObjectiveBatch(outputs: outputs, outputsAreLogits: logits, labels: buffer.labels), needsGradient: false)
    lossSum += Double(result.loss) * Double(batch.count)
    correct += correctPredictions(outputs[0], labels: buffer.labels)
  }
  let n = indices.count
  return Evaluation(
    loss: n == 0 ? 0 : lossSum / Double(n), accuracy: n == 0 ? 0 : Double(correct) / Double(n), count: n)
}
