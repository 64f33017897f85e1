/// A value given by a user (a flag, an API argument) that does not parse; the description is
/// the one line to show them.
public struct ValueError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
