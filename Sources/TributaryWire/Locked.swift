import Synchronization

/// The project's lock: a `Synchronization.Mutex` that ThreadSanitizer can see.
///
/// On Linux, `Mutex` locks with atomics and futex calls inside the (uninstrumented) Swift
/// runtime, so ThreadSanitizer never learns that one thread's unlock happens before another
/// thread's lock, and reports every access to the protected value from two threads as a race,
/// even in a correct program. Built with `-DTRIBUTARY_TSAN` (`Tools/tsan.sh` does it), `withLock`
/// tells ThreadSanitizer about the acquire and release; otherwise it is `Mutex` itself, with
/// nothing added.
@frozen
public struct Locked<Value: ~Copyable>: ~Copyable {
    @usableFromInline
    let mutex: Mutex<Value>

    #if TRIBUTARY_TSAN
    /// A heap object whose address names this lock to ThreadSanitizer.
    @usableFromInline
    let token = SanitizerToken()
    #endif

    /// Creates a lock around `initialValue`.
    @inlinable
    public init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if TRIBUTARY_TSAN
        let address = UnsafeRawPointer(Unmanaged.passUnretained(token).toOpaque())
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            sanitizerAcquire(address)
            defer { sanitizerRelease(address) }
            return try body(&value)
        }
        #else
        return try mutex.withLock(body)
        #endif
    }
}

extension Locked: @unchecked Sendable where Value: ~Copyable {}

#if TRIBUTARY_TSAN
@usableFromInline
final class SanitizerToken: Sendable {
    @usableFromInline init() {}
}

@usableFromInline
@_silgen_name("__tsan_acquire")
func sanitizerAcquire(_ address: UnsafeRawPointer)

@usableFromInline
@_silgen_name("__tsan_release")
func sanitizerRelease(_ address: UnsafeRawPointer)
#endif
