#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryWire

/// The descriptors of a fake server's peer connections whose scripts still run, for its
/// `stop()`. A finished script's descriptor is forgotten and closed under the same lock that
/// ``shutDownAll()`` takes: once closed, its number can be reused by any socket of the process
/// (another test's connection), which `stop()` must not shut down.
final class OpenDescriptors: Sendable {
    private let descriptors = Locked<[Int32]>([])

    /// Tracks `fd`, a peer connection whose script is about to run.
    func add(_ fd: Int32) {
        descriptors.withLock { $0.append(fd) }
    }

    /// Forgets `fd` and closes it: its script has returned.
    func close(_ fd: Int32) {
        descriptors.withLock { fds in
            fds.removeAll { $0 == fd }
            #if canImport(Glibc)
            _ = Glibc.close(fd)
            #else
            _ = Darwin.close(fd)
            #endif
        }
    }

    /// Shuts down every tracked descriptor (their scripts' reads end).
    func shutDownAll() {
        descriptors.withLock { fds in
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}
