/// Text for XML 1.0 documents: the bundle's SVG plots and the JUnit file of `adascale diff`.
public enum XMLText {
  /// `text` with `&`, `<`, `>`, `"`, `'` escaped and control characters (not allowed in XML
  /// 1.0) dropped, for text and attribute values.
  public static func escape(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default:
        if c.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\t" || $0 == "\n" }) { out.append(c) }
      }
    }
    return out
  }
}
