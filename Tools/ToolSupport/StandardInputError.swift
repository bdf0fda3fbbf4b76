#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading stdin failed.
public struct StandardInputError: Error, Sendable, CustomStringConvertible {
    /// The `errno` of the failed `read`.
    public var errno: Int32

    /// Creates the error for an `errno` value.
    public init(errno: Int32) {
        self.errno = errno
    }

    public var description: String { "cannot read stdin: \(String(cString: strerror(errno)))" }
}
