/// `--help` discussions are written in the source as paragraphs broken at the source's line
/// length; ArgumentParser keeps every line break and wraps each line again at the terminal's
/// width, so a paragraph came out broken twice. `reflow` joins each paragraph's lines into one
/// line, for the parser to wrap, and keeps indented lines (examples, lists) as they are.
///
///     discussion: HelpText.reflow(
///       """
///       A paragraph that the parser
///       wraps as one.
///
///       Examples:
///         adascale inspect model.h5
///       """)
enum HelpText {
  static func reflow(_ text: String) -> String {
    var lines: [String] = []
    var paragraph: [Substring] = []
    func flush() {
      if !paragraph.isEmpty { lines.append(paragraph.joined(separator: " ")) }
      paragraph = []
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.isEmpty || line.first == " " {
        flush()
        lines.append(String(line))
      } else {
        paragraph.append(line)
      }
    }
    flush()
    return lines.joined(separator: "\n")
  }
}
