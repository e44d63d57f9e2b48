import AdaTrain
import Foundation

/// Where the pipeline reports progress: one line per stage and milestone (to standard error by
/// default, so `--json` output on standard output stays clean), and a progress reporter for
/// the training runs (a bar on a terminal, epoch lines in logs).
public struct PipelineLog {
  /// Writes one line.
  public var write: (String) -> Void
  /// Reports baseline training progress.
  public var trainingReporter: any ProgressReporter

  public init(
    write: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
    trainingReporter: any ProgressReporter = TerminalProgressBar()
  ) {
    self.write = write
    self.trainingReporter = trainingReporter
  }

  /// A log that prints nothing (tests).
  public static var silent: PipelineLog { PipelineLog(write: { _ in }, trainingReporter: SilentReporter()) }

  /// A stage heading or milestone: `compress: <text>`.
  public func stage(_ text: String) { write("compress: \(text)") }

  /// A detail line under a stage.
  public func detail(_ text: String) { write("  \(text)") }
}
