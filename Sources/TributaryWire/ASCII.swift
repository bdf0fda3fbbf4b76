/// Small helpers for writing and reading ASCII numbers in protocol frames without allocating.
public enum ASCII {
    /// Appends the decimal digits of a non-negative integer to `buffer`.
    ///
    /// Negative values are written with a leading `-`. No intermediate `String` is built.
    @inlinable
    public static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(value.magnitude), to: &buffer)
        } else {
            appendDecimal(UInt64(value), to: &buffer)
        }
    }

    /// Appends the decimal digits of `value` to `buffer`.
    @inlinable
    public static func appendDecimal(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            let count = writeDecimal(value, into: digits, at: 0)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[0..<count]))
        }
    }

    /// Writes the decimal digits of `value` into `line` at `index`; returns the index after them.
    /// `line` must have room for 20 more bytes.
    @inlinable
    public static func writeDecimal(_ value: UInt64, into line: UnsafeMutableBufferPointer<UInt8>, at index: Int) -> Int {
        if value < 10 {
            line[index] = UInt8(truncatingIfNeeded: value) &+ 48
            return index + 1
        }
        var digits = 0
        var probe = value
        while probe > 0 { probe /= 10; digits += 1 }
        var remaining = value
        var position = index + digits - 1
        while remaining > 0 {
            let (quotient, remainder) = remaining.quotientAndRemainder(dividingBy: 10)
            line[position] = UInt8(truncatingIfNeeded: remainder) &+ 48
            remaining = quotient
            position -= 1
        }
        return index + digits
    }

    /// Parses an unsigned decimal number from `bytes`.
    ///
    /// Returns `nil` when the slice is empty, holds a non-digit, or the value exceeds `limit`
    /// (checked digit by digit, so an overlong field can never overflow).
    @inlinable
    public static func parseDecimal(_ bytes: UnsafeRawBufferPointer, limit: Int = Int.max) -> Int? {
        if bytes.isEmpty { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { return nil }
            let digit = Int(byte &- 48)
            guard value <= (limit - digit) / 10 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// A short hex excerpt of `bytes` for error messages: at most `maxBytes` bytes, then `…`.
    public static func hexExcerpt(_ bytes: some Collection<UInt8>, maxBytes: Int = 32) -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(maxBytes * 3 + 3)
        for (index, byte) in bytes.enumerated() {
            if index == maxBytes {
                out.append(contentsOf: "…".utf8)
                break
            }
            if index > 0 { out.append(UInt8(ascii: " ")) }
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
