#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What the benchmark tools report about their own process: CPU time and peak memory.
public enum ProcessResources {
    /// Peak resident memory of this process image in KiB (`VmHWM`; `ru_maxrss` can carry over a
    /// larger pre-exec parent), -1 when unknown.
    public static func peakRSSKB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.dropFirst(6).filter { $0.isNumber }
            return Int(digits) ?? -1
        }
        return -1
    }

    /// User and system CPU seconds this process used so far.
    public static func cpuTimes() -> (user: Double, sys: Double) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
    }
}
