import AdaTensor
import ArgumentParser
import Foundation

/// Maps every way a command can end to an exit code and a message on stderr:
/// help/version → 0; usage errors and `AdaError`s from input → 1 (with `hint:`); bugs → 2.
enum CommandRunner {
  static func run<Root: ParsableCommand>(root: Root.Type, arguments: [String]) -> Never {
    var command: ParsableCommand
    do {
      command = try Root.parseAsRoot(arguments)
    } catch {
      // Help, version, and usage errors (unknown option, failed `validate()`).
      let code = Root.exitCode(for: error)
      let message = Root.fullMessage(for: error)
      if code == .success {
        print(message)
        exit(0)
      }
      FileHandle.standardError.write(Data((message + "\n").utf8))
      exit(1)
    }
    do {
      try command.run()
      exit(0)
    } catch let error as AdaError {
      report(error)
      exit(error.kind == .internalError ? 2 : 1)
    } catch let error as ExitCode {
      exit(error.rawValue)
    } catch let error as ValidationError {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      exit(1)
    } catch {
      // `adascale SUBCOMMAND --help` runs a help command that ends with a "success" error.
      if Root.exitCode(for: error) == .success {
        print(Root.fullMessage(for: error))
        exit(0)
      }
      report(AdaError(.internalError, "\(error)"))
      exit(2)
    }
  }

  static func report(_ error: AdaError) {
    var text = "error: \(error.description)\n"
    if let hint = error.hint ?? defaultHint(error.kind) { text += "hint: \(hint)\n" }
    FileHandle.standardError.write(Data(text.utf8))
  }

  static func defaultHint(_ kind: AdaError.Kind) -> String? {
    switch kind {
    case .fileNotFound: "check the path; relative paths are resolved from the current directory"
    case .badFormat: "the file may be truncated or not the expected format; re-export it from Keras"
    case .unsupported: "see docs/formats.md for the layers and options adascale supports"
    case .internalError: "this is a bug in adascale; please report it with the command you ran"
    default: nil
    }
  }
}

/// Output helpers shared by the commands.
enum Output {
  static var stderrIsTerminal: Bool { isatty(2) == 1 }

  /// Prints an `Encodable` value as pretty, key-sorted JSON on stdout.
  static func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
  }

  /// Progress or status text for humans, on stderr so stdout stays clean for data.
  static func status(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Formats rows as an aligned text table; numeric-looking columns are right-aligned.
  static func table(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    let numeric = header.indices.map { c in
      rows.allSatisfy { row in row[c].isEmpty || row[c].first.map { $0.isNumber || $0 == "-" } == true }
    }
    func line(_ row: [String]) -> String {
      row.enumerated().map { c, cell in
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        return numeric[c] && c > 0 ? pad + cell : cell + pad
      }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })]
    out += rows.map(line)
    return out.joined(separator: "\n")
  }

  /// 1234567 → "1,234,567".
  static func grouped(_ n: Int) -> String {
    let s = String(abs(n))
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + String(out.reversed())
  }

  static func shape(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + ")" }
}
