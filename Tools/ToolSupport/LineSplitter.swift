/// Splits a byte stream into lines incrementally (for `nats-pub` reading stdin).
///
/// Lines end at `\n`; one `\r` before it is removed. A final line without `\n` is returned by
/// `finish()`. Pure: feed bytes with `append`, take lines with `nextLine`.
public struct LineSplitter: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    /// Creates an empty splitter.
    public init() {}

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line without its line ending, or nil when more bytes are needed.
    public mutating func nextLine() -> [UInt8]? {
        guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var end = newline
        if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = Array(buffer[start..<end])
        start = newline + 1
        return line
    }

    /// At end of input: the last line if it had no `\n` (nil when nothing is left).
    public mutating func finish() -> [UInt8]? {
        guard start < buffer.count else { return nil }
        var line = Array(buffer[start...])
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        start = buffer.count
        return line
    }

    /// Splits a whole input at once (convenience for tests).
    public static func lines(of bytes: [UInt8]) -> [[UInt8]] {
        var splitter = LineSplitter()
        splitter.append(bytes)
        var lines: [[UInt8]] = []
        while let line = splitter.nextLine() { lines.append(line) }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }
}
