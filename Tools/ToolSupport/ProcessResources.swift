#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What the benchmark tools report about their own process: CPU time and peak memory.
public enum ProcessResources {
    /// Peak resident memory of this process image in KiB (`VmHWM`; `ru_maxrss` can carry over a
    /// larger pre-exec parent), -1 when unknown.
    public static func peakRSSKB() -> Int {
        peakRSSKB(path: "/proc/self/status")
    }

    /// Peak resident memory of process `pid` in KiB (`VmHWM`), -1 when unknown.
    public static func peakRSSKB(of pid: Int32) -> Int {
        peakRSSKB(path: "/proc/\(pid)/status")
    }

    /// User + system CPU seconds process `pid` used so far (`/proc/PID/stat`), -1 when unknown.
    public static func cpuSeconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return -1 }
        // After the command name the state is field 3, so utime (14) and stime (15) are at 11 and 12.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func peakRSSKB(path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return -1 }
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
