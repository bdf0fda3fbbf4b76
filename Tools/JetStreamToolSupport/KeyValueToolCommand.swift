import ToolSupport
import TributaryJetStream

/// `nats-kv COMMAND …`: the parsed command line of the key-value tool (like `nats kv`).
public struct KeyValueToolCommand: Sendable, Equatable {
    /// Default `--timeout` (connect and each JetStream request): 5 s.
    public static let defaultTimeout: Duration = .seconds(5)

    /// What to do.
    public enum Action: Sendable, Equatable {
        /// `add BUCKET`: create a bucket.
        case add(KeyValueConfig)
        /// `put BUCKET KEY [VALUE]`: put a value (stdin when VALUE is absent).
        case put(bucket: String, key: String, value: [UInt8]?)
        /// `get BUCKET KEY`: print the latest value, or the one at `--revision`.
        case get(bucket: String, key: String, revision: UInt64?, raw: Bool)
        /// `create BUCKET KEY [VALUE]`: put only when the key has no value.
        case create(bucket: String, key: String, value: [UInt8]?)
        /// `update BUCKET KEY VALUE REVISION`: put only when the latest revision is REVISION.
        case update(bucket: String, key: String, value: [UInt8], revision: UInt64)
        /// `del BUCKET KEY -f`: write a delete marker.
        case delete(bucket: String, key: String)
        /// `purge BUCKET KEY -f`: write a purge marker, removing the history.
        case purge(bucket: String, key: String)
        /// `history BUCKET KEY`: print every stored revision.
        case history(bucket: String, key: String)
        /// `keys BUCKET [FILTER…]`: print the keys holding a value.
        case keys(bucket: String, filters: [String])
        /// `watch BUCKET [KEY]`: print the current values, then every change.
        case watch(bucket: String, key: String, count: Int?)
        /// `ls`: list buckets (names only with `--names`).
        case list(namesOnly: Bool)
        /// `rm BUCKET -f`: delete a bucket.
        case remove(bucket: String)
        /// `status BUCKET`: print a bucket's configuration and state.
        case status(bucket: String)
    }

    /// Server, credentials, name, timeout.
    public var connection: ConnectionSettings
    /// The subcommand and its values.
    public var action: Action

    static func connectionFlags() -> [FlagSpec] {
        ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for each JetStream answer")
    }

    static let force = FlagSpec.boolean("force", short: "f", help: "confirm (required)")

    /// The subcommands, their flags and help.
    public static let commands = SubcommandSet(tool: "nats-kv", summary: "Uses JetStream key-value buckets, like 'nats kv'.", commands: [
        CommandSpec(name: "nats-kv add", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Creates a bucket.",
                    flags: connectionFlags() + [
                        .value("history", placeholder: "N", help: "values kept per key, 1 to 64 (default 1)"),
                        .value("ttl", placeholder: "DURATION", help: "how long values live, like 1h or 7d (default forever)"),
                        .value("replicas", placeholder: "N", help: "replica count (default 1)"),
                        .value("max-value-size", placeholder: "SIZE", help: "largest value, like 1M (default unlimited)"),
                        .value("max-bucket-size", placeholder: "SIZE", help: "largest bucket, like 1GB (default unlimited)"),
                        .value("storage", placeholder: "TYPE", help: "file or memory (default file)"),
                        .value("description", placeholder: "TEXT", help: "free text"),
                        .boolean("compress", help: "compress stored values"),
                    ],
                    details: ["Example:\n  nats-kv add CONFIG --history 5 --ttl 1d"]),
        CommandSpec(name: "nats-kv put", positionalNames: ["BUCKET", "KEY", "VALUE"], minimumPositionals: 2,
                    summary: "Puts a value (read from stdin when VALUE is not given).", flags: connectionFlags()),
        CommandSpec(name: "nats-kv get", positionalNames: ["BUCKET", "KEY"], minimumPositionals: 2,
                    summary: "Prints a key's latest value, or the one at --revision.",
                    flags: connectionFlags() + [
                        .value("revision", placeholder: "N", help: "the value at this revision"),
                        .boolean("raw", help: "print the value only"),
                    ]),
        CommandSpec(name: "nats-kv create", positionalNames: ["BUCKET", "KEY", "VALUE"], minimumPositionals: 2,
                    summary: "Puts a value only when the key has none (stdin when VALUE is not given).", flags: connectionFlags()),
        CommandSpec(name: "nats-kv update", positionalNames: ["BUCKET", "KEY", "VALUE", "REVISION"], minimumPositionals: 4,
                    summary: "Puts a value only when the key's latest revision is REVISION.", flags: connectionFlags()),
        CommandSpec(name: "nats-kv del", positionalNames: ["BUCKET", "KEY"], minimumPositionals: 2,
                    summary: "Deletes a key (its history is kept).", flags: connectionFlags() + [force]),
        CommandSpec(name: "nats-kv purge", positionalNames: ["BUCKET", "KEY"], minimumPositionals: 2,
                    summary: "Purges a key with its history.", flags: connectionFlags() + [force]),
        CommandSpec(name: "nats-kv history", positionalNames: ["BUCKET", "KEY"], minimumPositionals: 2,
                    summary: "Prints every stored revision of a key.", flags: connectionFlags()),
        CommandSpec(name: "nats-kv keys", positionalNames: ["BUCKET", "FILTER"], minimumPositionals: 1, lastPositionalRepeats: true,
                    summary: "Prints the keys that hold a value, optionally only those matching FILTERs.", flags: connectionFlags()),
        CommandSpec(name: "nats-kv watch", positionalNames: ["BUCKET", "KEY"], minimumPositionals: 1,
                    summary: "Prints the current values of KEY (default every key, wildcards allowed), then every change.",
                    flags: connectionFlags() + [.value("count", placeholder: "N", help: "exit after N changes following the current values")]),
        CommandSpec(name: "nats-kv ls", positionalNames: [], minimumPositionals: 0,
                    summary: "Lists buckets.", flags: connectionFlags() + [.boolean("names", short: "n", help: "print names only")]),
        CommandSpec(name: "nats-kv rm", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Deletes a bucket with every key.", flags: connectionFlags() + [force]),
        CommandSpec(name: "nats-kv status", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Prints a bucket's configuration and state.", flags: connectionFlags()),
    ])

    /// Builds the command for subcommand `name` from its parsed arguments.
    ///
    /// - Throws: `UsageError` for invalid buckets, numbers, durations or missing confirmations.
    public init(_ name: String, _ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: "nats-kv", defaultTimeout: Self.defaultTimeout)
        let positionals = arguments.positionals
        let bucket = positionals.first ?? ""
        let key = positionals.count > 1 ? positionals[1] : ""
        let value: [UInt8]? = positionals.count > 2 ? Array(positionals[2].utf8) : nil
        if name != "ls" {
            guard !bucket.isEmpty, bucket.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw UsageError("invalid bucket name '\(bucket)': use letters, digits, '_' and '-'")
            }
        }
        func confirm(_ what: String) throws(UsageError) {
            guard arguments.isSet("force") else { throw UsageError("\(what); add -f to confirm") }
        }
        switch name {
        case "add":
            action = .add(try Self.config(bucket, arguments))
        case "put":
            action = .put(bucket: bucket, key: key, value: value)
        case "get":
            let revision = try arguments.value("revision").map { (text) throws(UsageError) in try Self.revision(text, flag: "--revision") }
            action = .get(bucket: bucket, key: key, revision: revision, raw: arguments.isSet("raw"))
        case "create":
            action = .create(bucket: bucket, key: key, value: value)
        case "update":
            action = .update(bucket: bucket, key: key, value: value ?? [], revision: try Self.revision(positionals[3], flag: "REVISION"))
        case "del":
            try confirm("deleting key '\(key)' hides its value")
            action = .delete(bucket: bucket, key: key)
        case "purge":
            try confirm("purging key '\(key)' removes its value and history")
            action = .purge(bucket: bucket, key: key)
        case "history":
            action = .history(bucket: bucket, key: key)
        case "keys":
            action = .keys(bucket: bucket, filters: Array(positionals.dropFirst()))
        case "watch":
            let count = try arguments.value("count").map { (text) throws(UsageError) -> Int in
                guard let count = Int(text), count >= 1 else { throw UsageError("--count expects a positive whole number, got '\(text)'") }
                return count
            }
            action = .watch(bucket: bucket, key: positionals.count > 1 ? positionals[1] : ">", count: count)
        case "ls":
            action = .list(namesOnly: arguments.isSet("names"))
        case "rm":
            try confirm("deleting bucket '\(bucket)' removes every key")
            action = .remove(bucket: bucket)
        case "status":
            action = .status(bucket: bucket)
        default:
            throw UsageError("unknown command '\(name)'")
        }
    }

    static func revision(_ text: String, flag: String) throws(UsageError) -> UInt64 {
        guard let value = UInt64(text) else { throw UsageError("\(flag) expects a revision (a whole number), got '\(text)'") }
        return value
    }

    static func config(_ bucket: String, _ arguments: ParsedArguments) throws(UsageError) -> KeyValueConfig {
        var config = KeyValueConfig(bucket: bucket)
        if let text = arguments.value("history") {
            guard let history = Int(text), (1...KeyValueConfig.maxHistory).contains(history) else {
                throw UsageError("--history must be 1 to \(KeyValueConfig.maxHistory), got '\(text)'")
            }
            config.history = history
        }
        if let text = arguments.value("ttl") {
            let ttl = try JetStreamArguments.longDuration(text, flag: "ttl")
            config.ttl = ttl > .zero ? ttl : nil
        }
        if let text = arguments.value("replicas") {
            guard let replicas = Int(text), (1...5).contains(replicas) else { throw UsageError("--replicas must be 1 to 5, got '\(text)'") }
            config.replicas = replicas
        }
        if let text = arguments.value("max-value-size") {
            let size = try JetStreamArguments.size(text, flag: "max-value-size")
            guard size <= Int64(Int32.max) else { throw UsageError("--max-value-size is at most 2GB") }
            config.maxValueSize = size > 0 ? Int(size) : nil
        }
        if let text = arguments.value("max-bucket-size") {
            let size = try JetStreamArguments.size(text, flag: "max-bucket-size")
            config.maxBytes = size > 0 ? size : nil
        }
        if let storage = arguments.value("storage") {
            config.storage = StorageType(rawValue: try JetStreamArguments.choice(storage, flag: "storage", ["file", "memory"]))
        }
        if let description = arguments.value("description") { config.description = description }
        config.compression = arguments.isSet("compress")
        return config
    }
}

/// Output of `nats-kv`, as lines like natscli's `nats kv`. Pure.
public enum KeyValueToolFormat {
    /// The RFC 3339 time of an entry.
    public static func time(_ entry: KeyValueEntry) -> String {
        // Date holds a Double: microseconds are exact, nanoseconds are not.
        JetStreamToolFormat.time(nanoseconds: Int64((entry.created.timeIntervalSince1970 * 1e6).rounded()) * 1000)
    }

    /// `get`: a heading line, a blank line, the value.
    public static func entry(_ entry: KeyValueEntry) -> [UInt8] {
        Array("\(entry.bucket) > \(entry.key) revision: \(entry.revision) created @ \(time(entry))\n\n".utf8) + entry.value + Array("\n".utf8)
    }

    /// `watch`: one line per entry, like `[time] PUT bucket > key: value`.
    public static func watchLine(_ entry: KeyValueEntry) -> String {
        let head = "[\(time(entry))] \(entry.operation) \(entry.bucket) > \(entry.key)"
        return entry.operation == .put ? head + ": " + entry.string : head
    }

    /// `history`: a header, then one line per revision.
    public static func history(_ entries: [KeyValueEntry]) -> [String] {
        var lines = ["Key\tRevision\tOp\tCreated\tLength\tValue"]
        for entry in entries {
            let shown = entry.value.count > 40 ? String(decoding: entry.value.prefix(40), as: UTF8.self) + "…" : entry.string
            lines.append("\(entry.key)\t\(entry.revision)\t\(entry.operation)\t\(time(entry))\t\(entry.value.count)\t\(shown)")
        }
        return lines
    }

    /// `status`: the bucket's configuration and state.
    public static func status(_ status: KeyValueStatus) -> [String] {
        let config = status.streamInfo.config
        func limit(_ value: Int64?) -> String { (value ?? -1) <= 0 ? "unlimited" : JetStreamToolFormat.bytes(UInt64(value ?? 0)) }
        return [
            "Information for Key-Value Store Bucket \(status.bucket)",
            "",
            "Configuration:",
            "",
            "          Bucket Name: \(status.bucket)",
            "         History Kept: \(status.history)",
            "        Values Stored: \(status.values)",
            "   Backing Store Kind: \(status.backingStore)",
            "          Bucket Size: \(JetStreamToolFormat.bytes(status.bytes))",
            "  Maximum Bucket Size: \(limit(config.maxBytes))",
            "   Maximum Value Size: \(limit(config.maxMsgSize.map(Int64.init)))",
            "          Maximum Age: \(status.ttl.map { "\($0.components.seconds)s" } ?? "unlimited")",
            "     JetStream Stream: \(config.name)",
            "              Storage: \(config.storage?.rawValue ?? "file")",
            "           Direct Get: \(status.allowsDirect)",
            "           Compressed: \(status.isCompressed)",
        ] + (config.description.map { ["          Description: \($0)"] } ?? [])
    }

    /// `ls`: one line per bucket.
    public static func list(_ statuses: [KeyValueStatus]) -> [String] {
        guard !statuses.isEmpty else { return [] }
        return ["Bucket\tValues\tSize\tHistory\tTTL"] + statuses.map {
            "\($0.bucket)\t\($0.values)\t\(JetStreamToolFormat.bytes($0.bytes))\t\($0.history)\t\($0.ttl.map { "\($0.components.seconds)s" } ?? "-")"
        }
    }
}
