import AdaRuntime
import ArgumentParser

/// `adascale interfere hog|balloon`: the helper processes `adascale replay` starts (hidden from
/// `--help`; docs/runtime.md, "Live replay"). Each reads its setting from stdin, one number per
/// line, and ends on end of input or when its parent is gone.
struct InterfereCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "interfere",
    abstract: "Helper processes of `adascale replay` (not for direct use).",
    shouldDisplay: false,
    subcommands: [Hog.self, Balloon.self])

  struct Hog: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Busy for a duty (0–1, from stdin) of every period.")

    @Option(help: "Busy/idle period, ms.")
    var periodMs = 20.0

    @Option(help: "Start this share of a period late (0–1).")
    var phase = 0.0

    func run() { InterferenceHelper.runHog(periodMs: periodMs, phase: phase) }
  }

  struct Balloon: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Hold N MB (from stdin) allocated and touched; prints what it holds.")

    func run() { InterferenceHelper.runBalloon() }
  }
}
