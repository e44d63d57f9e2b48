import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A one-line progress bar on stderr, redrawn in place with `\r`, for humans at a terminal:
///
///     epoch 2/10 [=========>          ] 412/938 loss 0.4123 acc 85.2% 4120 img/s ETA 0:12
///
/// followed at each epoch end by a permanent line with the epoch's results:
///
///     epoch 2/10 938/938 loss 0.3981 acc 85.9% val_loss 0.4210 val_acc 84.8% 4100 img/s 23.1s
///
/// The bar is drawn only when stderr is a TTY; pipes and log files (CI) get the epoch lines alone.
/// It redraws at most every `minimumInterval` seconds so it costs nothing measurable per step.
public final class TerminalProgressBar: ProgressReporter {
  public let isEnabled: Bool
  public let minimumInterval: Double
  public let plainInterval: Double?
  public let width: Int
  private let write: (String) -> Void
  private var lastDraw = -Double.infinity
  private var lineOpen = false

  /// - Parameters:
  ///   - isTerminal: override TTY detection (tests); default `isatty(stderr)`.
  ///   - write: where text goes; default stderr, unbuffered.
  ///   - plainInterval: without a terminal, also print the bar's figures as a plain line every
  ///     this many seconds within an epoch (CI logs: `--progress plain`); nil: epoch lines only.
  public init(
    isTerminal: Bool? = nil, minimumInterval: Double = 0.1, width: Int = 24, plainInterval: Double? = nil,
    write: @escaping (String) -> Void = TerminalProgressBar.standardError
  ) {
    isEnabled = isTerminal ?? (isatty(STDERR_FILENO) != 0)
    self.plainInterval = plainInterval
    self.minimumInterval = minimumInterval
    self.width = width
    self.write = write
  }

  public static func standardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  public func report(_ event: TrainingEvent) {
    if !isEnabled {
      switch event {
      case .started(let plan):
        if let from = plan.resumedFrom {
          write("resuming from \(from) at epoch \(plan.start.epoch + 1), step \(plan.start.step)\n")
        }
      case .epoch(let e):
        write(epochLine(e) + "\n")
        lastDraw = Self.now()
      case .step(let s):
        guard let every = plainInterval else { break }
        let now = Self.now()
        if lastDraw == -Double.infinity { lastDraw = now }
        guard now - lastDraw >= every else { break }
        lastDraw = now
        write(barLine(s) + "\n")
      default: break
      }
      return
    }
    switch event {
    case .started(let plan):
      if let from = plan.resumedFrom {
        write("resuming from \(from) at epoch \(plan.start.epoch + 1), step \(plan.start.step)\n")
      }
    case .step(let s):
      let now = Self.now()
      guard now - lastDraw >= minimumInterval || s.step == s.steps else { return }
      lastDraw = now
      write("\r" + barLine(s) + "\u{1B}[K")
      lineOpen = true
    case .epoch(let e):
      write((lineOpen ? "\r" : "") + epochLine(e) + "\u{1B}[K\n")
      lineOpen = false
      lastDraw = -Double.infinity
    case .checkpoint, .finished:
      break
    }
  }

  func barLine(_ s: StepReport) -> String {
    let filled = s.steps == 0 ? width : min(width, s.step * width / s.steps)
    let bar =
      String(repeating: "=", count: max(filled - 1, 0)) + (filled > 0 ? ">" : "")
      + String(repeating: " ", count: width - filled)
    let remaining =
      s.imagesPerSecond > 0 && s.step > 0
      ? s.elapsedSeconds / Double(s.step) * Double(s.steps - s.step) : 0
    return "epoch \(s.epoch)/\(s.epochs) [\(bar)] \(s.step)/\(s.steps) "
      + "loss \(Self.fixed(s.meanLoss, 4)) acc \(Self.fixed(100 * s.accuracy, 1))% "
      + "\(Int(s.imagesPerSecond.rounded())) img/s ETA \(Self.clock(remaining))"
  }

  func epochLine(_ e: EpochReport) -> String {
    var line =
      "epoch \(e.epoch)/\(e.epochs) loss \(Self.fixed(e.loss, 4)) acc \(Self.fixed(100 * e.accuracy, 1))%"
    if let vl = e.validationLoss, let va = e.validationAccuracy {
      line += " val_loss \(Self.fixed(vl, 4)) val_acc \(Self.fixed(100 * va, 1))%"
    }
    return line + " \(Int(e.imagesPerSecond.rounded())) img/s \(Self.fixed(e.elapsedSeconds, 1))s"
  }

  static func fixed(_ x: Double, _ digits: Int) -> String {
    x.isFinite ? String(format: "%.\(digits)f", x) : "\(x)"
  }

  /// `m:ss` or `h:mm:ss`.
  static func clock(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let t = Int(seconds.rounded())
    let (h, m, s) = (t / 3600, (t / 60) % 60, t % 60)
    return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
  }

  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }
}
