#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Unbuffered access to stdin, stdout and stderr.
///
/// Writes go straight to the file descriptor with `write(2)`, so every message is visible to a
/// reader on the other end of a pipe as soon as the call returns (no stdio buffering to flush).
/// Reading stdin blocks a dedicated serial queue, never the Swift concurrency pool.
public enum StandardStreams {
    /// Writes all of `bytes` to stdout. Returns false when stdout is closed (EPIPE and the like).
    @discardableResult
    public static func writeOutput(_ bytes: [UInt8]) -> Bool {
        writeAll(bytes, to: 1)
    }

    /// Writes `text` plus a newline to stdout.
    @discardableResult
    public static func writeOutput(line text: String) -> Bool {
        writeAll(Array((text + "\n").utf8), to: 1)
    }

    /// Writes `text` to stderr as is (no newline; for a progress line redrawn with `\r`).
    public static func writeError(text: String) {
        writeAll(Array(text.utf8), to: 2)
    }

    /// Writes `text` plus a newline to stderr.
    public static func writeError(line text: String) {
        writeAll(Array((text + "\n").utf8), to: 2)
    }

    /// True when stdin is a terminal (nobody piped anything in).
    public static var inputIsTerminal: Bool { isatty(0) == 1 }

    private static let inputQueue = DispatchQueue(label: "tributary.tools.stdin")

    /// Reads the next chunk of stdin (up to `maximum` bytes); nil at end of input.
    ///
    /// Cancelling the calling task returns nil at once (the blocked `read` finishes in the
    /// background and its bytes are dropped), so Ctrl-C does not wait for more input.
    /// - Throws: `StandardInputError` when `read(2)` fails.
    public static func readInput(maximum: Int = 65536) async throws(StandardInputError) -> [UInt8]? {
        let slot = ReadSlot()
        let result: Result<[UInt8]?, StandardInputError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                slot.store(continuation)
                if Task.isCancelled {
                    slot.resume(.success(nil))
                    return
                }
                inputQueue.async {
                    var chunk = [UInt8](repeating: 0, count: maximum)
                    while true {
                        let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, maximum) }
                        if count > 0 {
                            slot.resume(.success(Array(chunk[0..<count])))
                            return
                        }
                        if count == 0 {
                            slot.resume(.success(nil))
                            return
                        }
                        let code = errno
                        if code == EINTR { continue }
                        slot.resume(.failure(StandardInputError(errno: code)))
                        return
                    }
                }
            }
        } onCancel: {
            slot.resume(.success(nil))
        }
        return try result.get()
    }

    /// Holds the waiting reader so that either the read or a cancellation resumes it, once.
    private final class ReadSlot: Sendable {
        private let continuation = Mutex<CheckedContinuation<Result<[UInt8]?, StandardInputError>, Never>?>(nil)

        func store(_ waiter: CheckedContinuation<Result<[UInt8]?, StandardInputError>, Never>) {
            continuation.withLock { $0 = waiter }
        }

        func resume(_ result: Result<[UInt8]?, StandardInputError>) {
            let waiter = continuation.withLock { slot in
                let taken = slot
                slot = nil
                return taken
            }
            waiter?.resume(returning: result)
        }
    }

    @discardableResult
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, base + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }
}
