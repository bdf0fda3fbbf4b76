/// Message bodies and header values with the nats CLI's template placeholders.
///
/// Recognised (with or without spaces inside the braces, and with or without a leading `.`):
/// - `{{Count}}` (also `{{Cnt}}`): the message number;
/// - `{{Time}}`: the local time like Go's `time.Kitchen`, `3:04PM`;
/// - `{{TimeStamp}}`: the local time in RFC 3339, `2026-01-02T15:04:05+01:00` (`Z` in UTC);
/// - `{{Unix}}` and `{{UnixNano}}`: seconds and nanoseconds since 1970;
/// - `{{ID}}`: a unique 22-character identifier of `0-9A-Za-z`;
/// - `{{Random MIN MAX}}`: a random string of `a-zA-Z0-9`, MIN to MAX characters long;
/// - `{{Request}}`: the request payload (nats-reply only; elsewhere left as written).
///
/// Any other `{{…}}` text is left as written. Templates work on bytes, so a body that is not
/// UTF-8 passes through unchanged apart from its placeholders.
public struct BodyTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case text([UInt8])
        case count
        case time
        case timeStamp
        case unix
        case unixNano
        case id
        case random(minimum: Int, maximum: Int)
        case request(original: [UInt8])
    }

    /// What a rendering may use besides the message number: the clock, the request and randomness.
    public struct Context: Sendable {
        /// Nanoseconds since 1970-01-01T00:00:00Z.
        public var unixNanoseconds: Int64
        /// The local time zone's offset from UTC in seconds (east positive), for `Time` and `TimeStamp`.
        public var utcOffsetSeconds: Int
        /// The request payload for `{{Request}}`, or nil where there is no request.
        public var request: [UInt8]?

        /// Creates a context for a fixed instant.
        public init(unixNanoseconds: Int64, utcOffsetSeconds: Int = 0, request: [UInt8]? = nil) {
            self.unixNanoseconds = unixNanoseconds
            self.utcOffsetSeconds = utcOffsetSeconds
            self.request = request
        }

        /// The current time in the process's local time zone.
        public static func now(request: [UInt8]? = nil) -> Context {
            let clock = SystemTime.now()
            return Context(unixNanoseconds: clock.unixNanoseconds, utcOffsetSeconds: clock.utcOffsetSeconds, request: request)
        }
    }

    let pieces: [Piece]

    /// Parses `text` once; `render` is then cheap.
    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// A body sent exactly as given: no placeholders (`--no-templates`).
    public init(literal bytes: [UInt8]) {
        pieces = bytes.isEmpty ? [] : [.text(bytes)]
    }

    /// Parses a body given as bytes (stdin), without assuming it is UTF-8.
    public init(bytes: [UInt8]) {
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var index = 0
        let open = UInt8(ascii: "{")
        while index < bytes.count {
            if bytes[index] == open, index + 1 < bytes.count, bytes[index + 1] == open,
               let end = Self.closing(bytes, from: index + 2), let piece = Self.placeholder(bytes[(index + 2)..<end]) {
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = []
                if case .request = piece {
                    pieces.append(.request(original: Array(bytes[index..<(end + 2)])))
                } else {
                    pieces.append(piece)
                }
                index = end + 2
                continue
            }
            literal.append(bytes[index])
            index += 1
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        self.pieces = pieces
    }

    /// The index of the `}}` that closes a `{{` whose inside starts at `start`, within 64 bytes.
    private static func closing(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        let limit = min(bytes.count - 1, start + 64)
        while index < limit {
            if bytes[index] == UInt8(ascii: "}"), bytes[index + 1] == UInt8(ascii: "}") { return index }
            if bytes[index] == UInt8(ascii: "{") { return nil }
            index += 1
        }
        return nil
    }

    /// The placeholder named by the text between `{{` and `}}`, or nil when it is not one.
    private static func placeholder(_ inner: ArraySlice<UInt8>) -> Piece? {
        guard inner.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
        var words = String(decoding: inner, as: UTF8.self).split(separator: " ").map(String.init)
        guard !words.isEmpty else { return nil }
        if words[0].hasPrefix(".") { words[0].removeFirst() }
        switch (words[0], words.count) {
        case ("Count", 1), ("Cnt", 1): return .count
        case ("Time", 1): return .time
        case ("TimeStamp", 1): return .timeStamp
        case ("Unix", 1): return .unix
        case ("UnixNano", 1): return .unixNano
        case ("ID", 1): return .id
        case ("Request", 1): return .request(original: [])
        case ("Random", 3):
            guard let low = Int(words[1]), let high = Int(words[2]), low >= 0, high >= 0,
                  low <= 1_048_576, high <= 1_048_576 else { return nil }
            return .random(minimum: min(low, high), maximum: max(low, high))
        default: return nil
        }
    }

    /// True when the template contains placeholders (rendering is needed per message).
    public var hasPlaceholders: Bool { pieces.contains { if case .text = $0 { false } else { true } } }

    /// True when the body contains a `{{Count}}` placeholder.
    public var usesCount: Bool { pieces.contains(.count) }

    /// The body for message number `count` at the current time.
    public func render(count: Int) -> String {
        String(decoding: render(count: count, context: .now()), as: UTF8.self)
    }

    /// The body for message number `count` in `context`, with system randomness.
    public func render(count: Int, context: Context) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return render(count: count, context: context, using: &generator)
    }

    /// The body for message number `count` in `context`; `generator` feeds `ID` and `Random`.
    public func render(count: Int, context: Context, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        if pieces.count == 1, case .text(let text) = pieces[0] { return text }
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .count: out += String(count).utf8
            case .time: out += Self.kitchen(context).utf8
            case .timeStamp: out += Self.rfc3339(context).utf8
            case .unix: out += String(Self.floorDivide(context.unixNanoseconds, 1_000_000_000)).utf8
            case .unixNano: out += String(context.unixNanoseconds).utf8
            case .id: out += Self.randomText(length: 22, using: &generator)
            case .random(let minimum, let maximum):
                out += Self.randomText(length: Int.random(in: minimum...maximum, using: &generator), using: &generator)
            case .request(let original): out += context.request ?? original
            }
        }
        return out
    }

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    private static func randomText(length: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor < 0) ? quotient - 1 : quotient
    }

    /// Local civil time of `context`: (year, month, day, hour, minute, second).
    static func civil(_ context: Context) -> (Int, Int, Int, Int, Int, Int) {
        let seconds = floorDivide(context.unixNanoseconds, 1_000_000_000) + Int64(context.utcOffsetSeconds)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        // Days to civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay / 3600, (secondOfDay / 60) % 60, secondOfDay % 60)
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    /// Go's `time.Kitchen` (`3:04PM`) in local time.
    static func kitchen(_ context: Context) -> String {
        let (_, _, _, hour, minute, _) = civil(context)
        let twelve = hour % 12 == 0 ? 12 : hour % 12
        return "\(twelve):\(twoDigits(minute))\(hour < 12 ? "AM" : "PM")"
    }

    /// Go's `time.RFC3339` (`2006-01-02T15:04:05Z07:00`) in local time.
    static func rfc3339(_ context: Context) -> String {
        let (year, month, day, hour, minute, second) = civil(context)
        var yearText = String(year)
        while yearText.count < 4 { yearText = "0" + yearText }
        var text = "\(yearText)-\(twoDigits(month))-\(twoDigits(day))T\(twoDigits(hour)):\(twoDigits(minute)):\(twoDigits(second))"
        let offset = context.utcOffsetSeconds
        if offset == 0 {
            text += "Z"
        } else {
            let magnitude = abs(offset)
            text += (offset < 0 ? "-" : "+") + twoDigits(magnitude / 3600) + ":" + twoDigits((magnitude / 60) % 60)
        }
        return text
    }
}
