
/// Message bodies with the nats CLI's `{{Count}}` placeholder.
///
/// `{{Count}}`, `{{ Count }}` and `{{.Count}}` become the 1-based message number; any other
/// `{{…}}` text is left as written.
public struct BodyTemplate: Sendable, Equatable {
    private enum Piece: Sendable, Equatable {
        case text(String)
        case count
    }

    private let pieces: [Piece]

    /// Parses `text` once; `render(count:)` is then cheap.
    public init(_ text: String) {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { break }
            var inner = rest[open.upperBound..<close.lowerBound]
            while inner.first == " " { inner = inner.dropFirst() }
            while inner.last == " " { inner = inner.dropLast() }
            if inner.first == "." { inner = inner.dropFirst() }
            literal += rest[..<open.lowerBound]
            if inner == "Count" {
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = ""
                pieces.append(.count)
            } else {
                literal += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        self.pieces = pieces
    }

    /// True when the body contains a `{{Count}}` placeholder.
    public var usesCount: Bool { pieces.contains(.count) }

    /// The body for message number `count` (1-based).
    public func render(count: Int) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .count: out += String(count)
            }
        }
        return out
    }
}
