/// A monotonic instant in nanoseconds, handed to protocol state machines as a value.
///
/// Protocol cores never read a clock; drivers read one and pass the instant in.
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since an arbitrary, fixed origin.
    public var nanoseconds: UInt64

    /// Creates an instant from nanoseconds since the driver's origin.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The instant `duration` after this one (negative durations clamp at the origin).
    public func advanced(by duration: Duration) -> MonotonicInstant {
        let delta = duration.nanosecondsClamped
        if delta >= 0 { return MonotonicInstant(nanoseconds: nanoseconds &+ UInt64(delta)) }
        let back = UInt64(-delta)
        return MonotonicInstant(nanoseconds: nanoseconds > back ? nanoseconds - back : 0)
    }

    /// The duration from `other` to this instant (zero when `other` is later).
    public func duration(since other: MonotonicInstant) -> Duration {
        nanoseconds >= other.nanoseconds ? .nanoseconds(Int64(clamping: nanoseconds - other.nanoseconds)) : .zero
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to `Int64`.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (secNanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return secNanos.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// This duration in milliseconds, rounded up, clamped to `Int32` (for `poll` timeouts).
    public var pollMilliseconds: Int32 {
        let nanos = nanosecondsClamped
        if nanos <= 0 { return 0 }
        return Int32(clamping: (nanos + 999_999) / 1_000_000)
    }
}

/// Where a driver reads the time it hands to its state machine.
///
/// Drivers sleep in `poll` until the machine's next deadline; a clock whose time can jump
/// (a test's manual clock) calls the handlers registered with `onAdvance` so that sleeping
/// drivers recompute their deadline.
public protocol MonotonicClock: Sendable {
    /// The current instant.
    func now() -> MonotonicInstant
    /// Registers `handler` to be called whenever the time jumps. Real clocks never call it.
    func onAdvance(_ handler: @escaping @Sendable () -> Void)
}

/// The system's monotonic clock (`ContinuousClock`), counted from the moment it was created.
public struct SystemMonotonicClock: MonotonicClock {
    private let origin = ContinuousClock.now

    /// Creates a clock whose instants count from now.
    public init() {}

    public func now() -> MonotonicInstant {
        let elapsed = ContinuousClock.now - origin
        return MonotonicInstant(nanoseconds: UInt64(max(0, elapsed.nanosecondsClamped)))
    }

    public func onAdvance(_ handler: @escaping @Sendable () -> Void) {}
}
