/// A sleeve set-up failure: what was attempted and why.
public struct SleeveError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
