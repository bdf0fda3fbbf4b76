/// The client's retry backoff, like the Java client's: `base` doubled per attempt up to
/// `max`, with ±20 % jitter.
public enum KafkaBackoff {
    /// The delay before retry number `attempt` (0 for the first), with `unit` a random value in
    /// 0..<1 that places the jitter.
    public static func delay(attempt: Int, base: Duration, max maximum: Duration, unit: Double) -> Duration {
        let raw = base * (1 << min(attempt, 16))
        let capped = raw > maximum ? maximum : raw
        return capped * (0.8 + 0.4 * unit)
    }
}
