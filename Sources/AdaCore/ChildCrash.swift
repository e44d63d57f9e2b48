#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a child process that died of a signal says about the cause, from the signal and the
/// end of its standard error. adascale decodes files from elsewhere in a child
/// (`adascale decode-check`): a damaged file can crash the HDF5 C library there, but a trap
/// of adascale's own code (a Swift runtime error: `Fatal error: …`, SIGILL or SIGTRAP) is a bug,
/// and a SIGKILL usually came from the out-of-memory killer. The three are reported differently.
public enum ChildCrash: Equatable, Sendable {
  /// adascale's own code trapped; the line the Swift runtime printed.
  case ours(String)
  /// The child was killed (SIGKILL), by the OOM killer or by hand.
  case killed
  /// Any other signal with no error of ours: a library (HDF5) crashed.
  case library(signal: Int32)

  public init(signal: Int32, stderr: String) {
    let lines = stderr.split(separator: "\n").map(String.init)
    if let fatal = lines.last(where: { $0.contains("Fatal error") || $0.contains("fatal error:") }) {
      self = .ours(fatal.trimmingCharacters(in: .whitespaces))
    } else if signal == SIGILL || signal == SIGTRAP {
      self = .ours("signal \(signal) (a Swift runtime trap)")
    } else if signal == SIGKILL {
      self = .killed
    } else {
      self = .library(signal: signal)
    }
  }

  /// `signal 11, segmentation fault`.
  public static func name(_ signal: Int32) -> String {
    let names: [Int32: String] = [
      SIGSEGV: "segmentation fault", SIGBUS: "bus error", SIGABRT: "abort", SIGFPE: "arithmetic error",
      SIGILL: "illegal instruction", SIGTRAP: "trap", SIGKILL: "killed",
    ]
    return "signal \(signal)" + (names[signal].map { ", \($0)" } ?? "")
  }
}
