/// How a failure should be treated by code that retries: shared by the client modules' error
/// types, so that a run loop of one client can classify the errors of another without
/// depending on it.
public enum FailureClass: Sendable, Hashable {
    /// The world failed, not the work: a lost connection, a timeout, a server that is not
    /// answering yet. Trying again later can succeed.
    case transient
    /// Trying again will fail the same way.
    case permanent
    /// The work was cancelled.
    case cancellation
}

/// An error that says which `FailureClass` it belongs to.
public protocol ClassifiedFailure: Error {
    /// Transient, permanent or cancellation.
    var failureClass: FailureClass { get }
}
