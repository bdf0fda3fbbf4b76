import TributaryNATSProtocol

/// `-H Key:Value` arguments whose values may hold `BodyTemplate` placeholders (`-H Seq:{{Count}}`),
/// rendered afresh for every message, as the nats CLI does.
public struct HeaderTemplate: Sendable, Equatable {
    /// Header names and value templates, in command-line order.
    public var entries: [(name: String, value: BodyTemplate)] {
        zip(names, values).map { ($0, $1) }
    }

    private let names: [String]
    private let values: [BodyTemplate]
    private let fixed: NATSHeaders?

    /// Parses the `-H` arguments; nil when there are none.
    ///
    /// - Throws: `UsageError` for an argument `HeaderArguments.parse` rejects.
    public init?(arguments: [String]) throws(UsageError) {
        guard let parsed = try HeaderArguments.headers(from: arguments) else { return nil }
        var names: [String] = []
        var values: [BodyTemplate] = []
        for entry in parsed {
            names.append(entry.name)
            values.append(BodyTemplate(entry.value))
        }
        self.names = names
        self.values = values
        fixed = values.contains(where: \.hasPlaceholders) ? nil : parsed
    }

    /// The headers for message number `count` (placeholders rendered; `{{Request}}` is not
    /// available in headers and stays as written).
    public func render(count: Int, context: BodyTemplate.Context) -> NATSHeaders {
        if let fixed { return fixed }
        var headers = NATSHeaders()
        var headerContext = context
        headerContext.request = nil
        for (name, value) in zip(names, values) {
            headers.append(String(decoding: value.render(count: count, context: headerContext), as: UTF8.self), for: name)
        }
        return headers
    }

    public static func == (lhs: HeaderTemplate, rhs: HeaderTemplate) -> Bool {
        lhs.names == rhs.names && lhs.values == rhs.values
    }
}
