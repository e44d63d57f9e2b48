/// A device context with a name: a recipe's `targets.contexts` entry and a row group of a
/// bundle's lookup table (`busy` = `cpu=0.5`, `low-battery` = `battery=0.15`).
public struct NamedContext: Codable, Hashable, Sendable {
  public var name: String
  public var context: DeviceContext

  public init(name: String, context: DeviceContext) {
    self.name = name
    self.context = context
  }
}
