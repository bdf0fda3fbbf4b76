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
