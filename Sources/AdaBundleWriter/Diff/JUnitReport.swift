import Foundation

/// Gate verdicts as a JUnit XML file, the format CI systems (GitHub Actions test reporters,
/// GitLab `artifacts:reports:junit`, Jenkins) read: one `<testsuite>`, one `<testcase>` per
/// gate, a `<failure>` for a gate that failed (docs/ci.md).
public enum JUnitReport {
  public static func xml(suite: String, results: [BundleGates.Result], seconds: Double = 0) -> String {
    let failures = results.filter { !$0.passed }.count
    var lines = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<testsuites name=\"\(XMLText.escape(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\">",
      "  <testsuite name=\"\(XMLText.escape(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" "
        + "skipped=\"0\" time=\"\(String(format: "%.3f", seconds))\">",
    ]
    for r in results {
      let open = "    <testcase classname=\"adascale.gates\" name=\"\(XMLText.escape(r.gate))\" time=\"0\""
      if r.passed {
        lines.append(open + ">")
        lines.append("      <system-out>\(XMLText.escape(r.message))</system-out>")
        lines.append("    </testcase>")
      } else {
        lines.append(open + ">")
        lines.append(
          "      <failure message=\"\(XMLText.escape(r.message))\" type=\"gate\">\(XMLText.escape(r.message))</failure>"
        )
        lines.append("    </testcase>")
      }
    }
    lines += ["  </testsuite>", "</testsuites>"]
    return lines.joined(separator: "\n") + "\n"
  }
}
