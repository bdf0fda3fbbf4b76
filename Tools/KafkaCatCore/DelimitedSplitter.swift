/// Splits a byte stream into messages at a delimiter of one or more bytes (kcat's `-D`),
/// incrementally: feed bytes with `append`, take messages with `next`, and the rest with
/// `finish` at end of input. Pure.
public struct DelimitedSplitter: Sendable {
    /// The delimiter; never empty.
    public let delimiter: [UInt8]
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the next delimiter search begins (bytes before it hold no delimiter start).
    private var searchFrom = 0

    /// Creates a splitter; an empty `delimiter` is replaced by a newline.
    public init(delimiter: [UInt8]) {
        self.delimiter = delimiter.isEmpty ? [UInt8(ascii: "\n")] : delimiter
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            searchFrom -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message without its delimiter, or nil when more bytes are needed.
    public mutating func next() -> [UInt8]? {
        let first = delimiter[0]
        var index = max(searchFrom, start)
        while index + delimiter.count <= buffer.count {
            if buffer[index] == first, buffer[index..<(index + delimiter.count)].elementsEqual(delimiter) {
                let message = Array(buffer[start..<index])
                start = index + delimiter.count
                searchFrom = start
                return message
            }
            index += 1
        }
        searchFrom = index
        return nil
    }

    /// At end of input: what follows the last delimiter, nil when nothing is left.
    public mutating func finish() -> [UInt8]? {
        guard start < buffer.count else { return nil }
        let rest = Array(buffer[start...])
        start = buffer.count
        searchFrom = start
        return rest
    }

    /// Splits a whole input at once.
    public static func split(_ bytes: [UInt8], delimiter: [UInt8]) -> [[UInt8]] {
        var splitter = DelimitedSplitter(delimiter: delimiter)
        splitter.append(bytes)
        var messages: [[UInt8]] = []
        while let message = splitter.next() { messages.append(message) }
        if let last = splitter.finish() { messages.append(last) }
        return messages
    }
}
