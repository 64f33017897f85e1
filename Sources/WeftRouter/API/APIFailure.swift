import NIOHTTP1
import WeftIPAM

/// An API request that failed, with the HTTP status it deserves and one line for the user.
struct APIFailure: Error, CustomStringConvertible {
    var status: HTTPResponseStatus
    var description: String

    init(_ status: HTTPResponseStatus, _ description: String) {
        self.status = status
        self.description = description
    }

    init(_ error: IPAMError) {
        let status: HTTPResponseStatus = switch error.kind {
        case .invalid: .badRequest
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .notFound: .notFound
        }
        self.init(status, error.description)
    }
}
