#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock and the local time zone's offset, read once (for template placeholders).
public struct SystemTime: Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var unixNanoseconds: Int64
    /// The local offset from UTC in seconds (east positive).
    public var utcOffsetSeconds: Int

    /// Reads `clock_gettime(CLOCK_REALTIME)` and the local offset (`localtime_r`'s `tm_gmtoff`).
    public static func now() -> SystemTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var local = tm()
        localtime_r(&seconds, &local)
        return SystemTime(unixNanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec),
                          utcOffsetSeconds: Int(local.tm_gmtoff))
    }
}
