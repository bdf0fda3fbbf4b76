/// The results of one benchmark client, and the CSV file `nats-bench --csv` writes.
public struct BenchSample: Sendable, Equatable {
    /// `P0`, `P1`… for publishers, `S0` for a subscriber, `R0` for a requester.
    public var clientID: String
    /// Messages this client handled.
    public var messages: Int
    /// Payload bytes this client handled.
    public var bytes: Int
    /// How long it took.
    public var duration: Duration
    /// Round trips in microseconds, sorted, for latency modes; empty otherwise.
    public var latenciesMicroseconds: [Double]

    public init(clientID: String, messages: Int, bytes: Int, duration: Duration, latenciesMicroseconds: [Double] = []) {
        self.clientID = clientID
        self.messages = messages
        self.bytes = bytes
        self.duration = duration
        self.latenciesMicroseconds = latenciesMicroseconds
    }

    /// Seconds as a floating-point number.
    public var seconds: Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Formats benchmark samples in the nats CLI's `bench --csv` layout.
public enum BenchReport {
    /// The CSV text: a header row, then one row per sample. Latency columns (min, avg, max, p50,
    /// p90, p99, p99.9, standard deviation, in microseconds) appear when any sample has latencies.
    public static func csv(runID: String, samples: [BenchSample]) -> String {
        let latency = samples.contains { !$0.latenciesMicroseconds.isEmpty }
        var header = ["#RunID", "ClientID", "MsgCount", "MsgBytes", "MsgsPerSec", "BytesPerSec", "DurationSecs"]
        if latency {
            header += ["MinLatencyMicroSecs", "AvgLatencyMicroSecs", "MaxLatencyMicroSecs", "P50LatencyMicroSecs",
                       "P90LatencyMicroSecs", "P99LatencyMicroSecs", "P99.9LatencyMicroSecs", "StdDevLatencyMicroSecs"]
        }
        var lines = [header.joined(separator: ",")]
        for sample in samples {
            let seconds = sample.seconds
            let rate = seconds > 0 ? Int(Double(sample.messages) / seconds) : 0
            let throughput = seconds > 0 ? Double(sample.bytes) / seconds : 0
            var row = [runID, sample.clientID, String(sample.messages), String(sample.bytes), String(rate),
                       fixed(throughput), fixed(seconds)]
            if latency {
                let values = sample.latenciesMicroseconds
                let average = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
                let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count)
                row += [values.first ?? 0, average, values.last ?? 0, percentile(values, 50), percentile(values, 90),
                        percentile(values, 99), percentile(values, 99.9), variance.squareRoot()].map { fixed($0) }
            }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `p`th percentile (0–100) of sorted `values`, nearest rank; 0 when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(values.count)).rounded(.up)) - 1
        return values[min(max(rank, 0), values.count - 1)]
    }

    /// `value` with `digits` decimals (six by default, like Go's `%f`), rounded half away from zero.
    public static func fixed(_ value: Double, digits: Int = 6) -> String {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * Double(scale)).rounded()
        let magnitude = Int64(abs(scaled))
        let sign = scaled < 0 ? "-" : ""
        guard digits > 0 else { return sign + String(magnitude) }
        let fraction = String(magnitude % scale)
        return sign + String(magnitude / scale) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// `pub: 123,456/1,000,000 msgs` for the progress line.
    public static func progressLine(mode: String, done: Int, total: Int) -> String {
        "\(mode): \(MessageFormat.grouped(UInt64(max(done, 0))))/\(MessageFormat.grouped(UInt64(max(total, 0)))) msgs"
    }
}
