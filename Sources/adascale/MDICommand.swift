import AdaDistributed
import AdaNN
import ArgumentParser

/// `adascale mdi`: model-distributed inference with early exits over a chain of devices
/// (docs/mdi.md).
struct MDICommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mdi",
    abstract: "Split a variant across a chain of devices: plan the split, serve segments, run the source.",
    discussion: HelpText.reflow(
      """
      Model-distributed inference (Early-Exit meets Model-Distributed Inference, arXiv 2408.05247):
      the source runs the first segment of a variant and sends the features that cross the cut to
      the next device, which runs the next segment, and so on; with an early-exit operating point
      an input that is confident at an exit on the way leaves there and travels no further.

      Examples:
        adascale mdi plan --bundle B --variant v03 \\
          --devices raspberry-pi-4,raspberry-pi-4 --link-mbps 20 --link-ms 2
        adascale mdi serve --bundle B --variant v03 --cut-after block_6_add \\
          --segment 1 --port 7001
        adascale mdi run --bundle B --variant v03 --cut-after block_6_add \\
          --next 127.0.0.1:7001 --input x.h5
      """),
    subcommands: [MDIPlanCommand.self, MDIServeCommand.self, MDIRunCommand.self])
}

/// `--link-mbps --link-ms`, shared by the subcommands.
struct LinkOptions: ParsableArguments {
  @Option(help: "Link bandwidth between neighbouring devices, Mbit/s.")
  var linkMbps: Double = 20

  @Option(help: "One-way link latency, ms.")
  var linkMs: Double = 2

  var link: Link { Link(mbps: linkMbps, latencyMs: linkMs) }
}

/// `--bundle --variant --exits`, shared by the subcommands.
struct VariantOptions: ParsableArguments {
  @Option(help: "Bundle directory (written by `adascale compress`).")
  var bundle: String

  @Option(help: "Variant id, e.g. v03.")
  var variant: String

  @Option(
    name: .customLong("exits"),
    help: """
      Early-exit operating point of the variant (see `adascale exits`); default: no early exits. \
      serve and run take a comma-separated list for threshold adaptation (every process the same list).
      """)
  var operatingPoint: String?

  /// The operating points named by `--exits`, in order.
  var points: [String] {
    operatingPoint?.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    } ?? []
  }
}
