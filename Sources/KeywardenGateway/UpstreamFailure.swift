/// Why a call to the upstream failed.
enum UpstreamFailure: Error {
    /// No connection could be made.
    case unreachable
    /// The upstream stayed silent for longer than the read timeout.
    case timedOut
    /// The connection closed before the answer was complete.
    case closed
}
