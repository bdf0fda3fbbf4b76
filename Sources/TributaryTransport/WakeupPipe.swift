#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-pipe that lets any thread wake an I/O thread blocked in `poll`.
public struct WakeupPipe: Sendable {
    /// The end the I/O thread polls for `POLLIN`.
    public let readFD: Int32
    /// The end other threads write to.
    public let writeFD: Int32

    /// Creates a non-blocking, close-on-exec pipe.
    public init() throws(TransportError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .fromErrno(errno, endpoint: "wakeup pipe", operation: "pipe") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Wakes the poller. Safe from any thread; a full pipe means a wake-up is already pending.
    public func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }

    /// Drains pending wake-ups (called by the I/O thread).
    public func drain() {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            while Glibc.read(readFD, raw.baseAddress, raw.count) > 0 {}
        }
    }

    /// Closes both ends.
    public func close() {
        _ = Glibc.close(readFD)
        _ = Glibc.close(writeFD)
    }
}
