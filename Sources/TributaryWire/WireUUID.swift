/// A 128-bit UUID as it travels on the wire: 16 bytes, most significant byte first.
///
/// Kafka uses these for topic IDs and directory IDs; the all-zero value means "no ID".
/// Kept free of Foundation so protocol cores do not need it.
public struct WireUUID: Hashable, Sendable, CustomStringConvertible {
    /// The most significant 64 bits.
    public var high: UInt64
    /// The least significant 64 bits.
    public var low: UInt64

    /// The all-zero UUID (Kafka's `Uuid.ZERO_UUID`, meaning "unset").
    public static let zero = WireUUID(high: 0, low: 0)

    /// Creates a UUID from its two 64-bit halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates a UUID from exactly 16 bytes, most significant first; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return result
    }

    /// The canonical lowercase 8-4-4-4-12 hex form.
    public var description: String {
        let hex = ASCII.hexExcerpt(bytes, maxBytes: 16).split(separator: " ").joined()
        let characters = Array(hex)
        var text = ""
        for (index, character) in characters.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append("-") }
            text.append(character)
        }
        return text
    }
}
