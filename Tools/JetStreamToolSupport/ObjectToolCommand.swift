import Foundation
import ToolSupport
import TributaryJetStream

/// `nats-obj COMMAND …`: the parsed command line of the object store tool (like `nats object`).
public struct ObjectToolCommand: Sendable, Equatable {
    /// Default `--timeout` (connect and each API request): 5 s.
    public static let defaultTimeout: Duration = .seconds(5)

    /// What to do.
    public enum Action: Sendable, Equatable {
        /// `add BUCKET`: create a bucket.
        case add(ObjectStoreConfig)
        /// `put BUCKET FILE [--name NAME]`: store a file (`-` for stdin is not supported).
        case put(bucket: String, file: String, name: String, description: String?, headers: [String: [String]]?, progress: Bool)
        /// `get BUCKET NAME -O FILE`: write an object into a file.
        case get(bucket: String, name: String, output: String, progress: Bool)
        /// `info BUCKET [NAME]`: a bucket's status, or an object's record.
        case info(bucket: String, name: String?, showDeleted: Bool)
        /// `ls [BUCKET]`: list buckets, or the objects of one.
        case list(bucket: String?, showDeleted: Bool)
        /// `rm BUCKET [NAME] -f`: delete an object, or the whole bucket.
        case remove(bucket: String, name: String?)
        /// `watch BUCKET`: print record changes.
        case watch(bucket: String, includeHistory: Bool)
        /// `status BUCKET`: a bucket's status.
        case status(bucket: String)
        /// `seal BUCKET -f`: make a bucket read-only.
        case seal(bucket: String)
    }

    /// Server, credentials, name, timeout.
    public var connection: ConnectionSettings
    /// The subcommand and its values.
    public var action: Action

    static func connectionFlags() -> [FlagSpec] {
        ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for each JetStream answer")
    }

    /// The subcommands, their flags and help.
    public static let commands = SubcommandSet(tool: "nats-obj", summary: "Manages JetStream object stores, like 'nats object'.", commands: [
        CommandSpec(name: "nats-obj add", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Creates an object store bucket.",
                    flags: connectionFlags() + [
                        .value("ttl", placeholder: "DURATION", help: "how long objects are kept, like 1h or 7d (default forever)"),
                        .value("max-bucket-size", placeholder: "SIZE", help: "most bytes the bucket holds, like 1GB (default unlimited)"),
                        .value("storage", placeholder: "TYPE", help: "file or memory (default file)"),
                        .value("replicas", placeholder: "N", help: "replica count (default 1)"),
                        .value("description", placeholder: "TEXT", help: "free text"),
                        .repeatable("metadata", placeholder: "KEY:VALUE", help: "bucket metadata, repeatable"),
                    ],
                    details: ["Example:\n  nats-obj add BACKUPS --ttl 30d --max-bucket-size 10GB"]),
        CommandSpec(name: "nats-obj put", positionalNames: ["BUCKET", "FILE"], minimumPositionals: 2,
                    summary: "Stores a file as an object, chunk by chunk.",
                    flags: connectionFlags() + [
                        .value("name", placeholder: "NAME", help: "object name (default: the file path as given)"),
                        .value("description", placeholder: "TEXT", help: "object description"),
                        .repeatable("header", short: "H", placeholder: "K:V", help: "object header, repeatable"),
                        .boolean("no-progress", help: "never show the progress line"),
                        .boolean("force", short: "f", help: "accepted for natscli compatibility (puts always replace)"),
                    ]),
        CommandSpec(name: "nats-obj get", positionalNames: ["BUCKET", "NAME"], minimumPositionals: 2,
                    summary: "Writes an object into a file, checking its digest.",
                    flags: connectionFlags() + [
                        .value("output", short: "O", placeholder: "FILE", help: "file to write (default: the object name's last path part)"),
                        .boolean("no-progress", help: "never show the progress line"),
                        .boolean("force", short: "f", help: "overwrite an existing file"),
                    ]),
        CommandSpec(name: "nats-obj info", positionalNames: ["BUCKET", "NAME"], minimumPositionals: 1,
                    summary: "Prints a bucket's status, or an object's record.",
                    flags: connectionFlags() + [.boolean("show-deleted", help: "also show a deleted object's record")]),
        CommandSpec(name: "nats-obj ls", positionalNames: ["BUCKET"], minimumPositionals: 0,
                    summary: "Lists buckets, or the objects of BUCKET.",
                    flags: connectionFlags() + [.boolean("show-deleted", help: "include deleted objects")]),
        CommandSpec(name: "nats-obj rm", positionalNames: ["BUCKET", "NAME"], minimumPositionals: 1,
                    summary: "Deletes an object, or the whole bucket when NAME is not given.",
                    flags: connectionFlags() + [.boolean("force", short: "f", help: "confirm the deletion (required)")]),
        CommandSpec(name: "nats-obj watch", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Prints the bucket's records, then every change, until interrupted.",
                    flags: connectionFlags() + [.boolean("history", help: "every stored record, not only the newest per name")]),
        CommandSpec(name: "nats-obj status", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Prints a bucket's status.", flags: connectionFlags()),
        CommandSpec(name: "nats-obj seal", positionalNames: ["BUCKET"], minimumPositionals: 1,
                    summary: "Seals a bucket: no further changes.",
                    flags: connectionFlags() + [.boolean("force", short: "f", help: "confirm sealing (required)")]),
    ])

    /// Builds the command for subcommand `name` from its parsed arguments.
    ///
    /// - Throws: `UsageError` for invalid names, sizes, durations or combinations.
    public init(_ name: String, _ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: "nats-obj", defaultTimeout: Self.defaultTimeout)
        let positionals = arguments.positionals
        let bucket = positionals.first ?? ""
        if !bucket.isEmpty || name != "ls" {
            do throws(JetStreamError) {
                try ObjectStore.validateBucketName(bucket)
            } catch {
                throw UsageError(error.message)
            }
        }
        let second = positionals.count > 1 ? positionals[1] : nil
        if let second, name != "put" { try Self.objectName(second) }
        let progress = !arguments.isSet("no-progress")
        switch name {
        case "add":
            action = .add(try Self.config(bucket, arguments))
        case "put":
            let file = second ?? ""
            let objectName = arguments.value("name") ?? file
            try Self.objectName(objectName)
            var headers: [String: [String]]?
            for text in arguments.values("header") {
                let (key, value) = try HeaderArguments.parse(text)
                headers = headers ?? [:]
                headers?[key, default: []].append(value)
            }
            action = .put(bucket: bucket, file: file, name: objectName, description: arguments.value("description"), headers: headers, progress: progress)
        case "get":
            let objectName = second ?? ""
            let output = arguments.value("output") ?? String(objectName.split(separator: "/").last ?? Substring(objectName))
            guard !output.isEmpty else { throw UsageError("give the file to write with -O FILE") }
            if !arguments.isSet("force") && output != "/dev/null" && FileManager.default.fileExists(atPath: output) {
                throw UsageError("'\(output)' exists; add -f to overwrite it")
            }
            action = .get(bucket: bucket, name: objectName, output: output, progress: progress)
        case "info":
            action = .info(bucket: bucket, name: second, showDeleted: arguments.isSet("show-deleted"))
        case "ls":
            action = .list(bucket: bucket.isEmpty ? nil : bucket, showDeleted: arguments.isSet("show-deleted"))
        case "rm":
            guard arguments.isSet("force") else {
                throw UsageError(second == nil ? "deleting bucket '\(bucket)' removes every object in it; add -f to confirm"
                                               : "deleting '\(second ?? "")' from bucket '\(bucket)' cannot be undone; add -f to confirm")
            }
            action = .remove(bucket: bucket, name: second)
        case "watch":
            action = .watch(bucket: bucket, includeHistory: arguments.isSet("history"))
        case "status":
            action = .status(bucket: bucket)
        case "seal":
            guard arguments.isSet("force") else { throw UsageError("sealing bucket '\(bucket)' makes it read-only for good; add -f to confirm") }
            action = .seal(bucket: bucket)
        default:
            throw UsageError("unknown command '\(name)'")
        }
    }

    static func objectName(_ name: String) throws(UsageError) {
        do throws(JetStreamError) {
            try ObjectStore.validateObjectName(name)
        } catch {
            throw UsageError(error.message)
        }
    }

    static func config(_ bucket: String, _ arguments: ParsedArguments) throws(UsageError) -> ObjectStoreConfig {
        var config = ObjectStoreConfig(bucket: bucket)
        if let text = arguments.value("ttl") { config.ttl = try JetStreamArguments.longDuration(text, flag: "ttl") }
        if let text = arguments.value("max-bucket-size") { config.maxBytes = try JetStreamArguments.size(text, flag: "max-bucket-size") }
        if let storage = arguments.value("storage") {
            config.storage = StorageType(rawValue: try JetStreamArguments.choice(storage, flag: "storage", ["file", "memory"]))
        }
        if let text = arguments.value("replicas") {
            guard let replicas = Int(text), (1...5).contains(replicas) else { throw UsageError("--replicas must be 1 to 5, got '\(text)'") }
            config.replicas = replicas
        }
        config.description = arguments.value("description")
        for entry in arguments.values("metadata") {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else {
                throw UsageError("--metadata expects KEY:VALUE, got '\(entry)'")
            }
            config.metadata = config.metadata ?? [:]
            config.metadata?[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
        }
        return config
    }
}

/// Text output of `nats-obj`, and its progress line.
public enum ObjectToolFormat {
    /// `nats-obj info BUCKET NAME` output.
    public static func objectInfo(_ info: ObjectInfo) -> [String] {
        var rows: [(String, String)] = [("Object", info.name), ("Bucket", info.bucket)]
        if let description = info.description { rows.append(("Description", description)) }
        if let link = info.link {
            rows.append(("Link", link.isBucketLink ? "bucket \(link.bucket)" : "\(link.bucket) > \(link.name ?? "")"))
        } else {
            rows.append(("Size", "\(JetStreamToolFormat.bytes(info.size)) (\(info.size) bytes)"))
            rows.append(("Chunks", "\(info.chunks)"))
            rows.append(("Digest", info.digest ?? "-"))
        }
        rows.append(("NUID", info.nuid))
        rows.append(("Modified", info.modified ?? "-"))
        if info.deleted { rows.append(("Deleted", "true")) }
        for (key, values) in (info.headers ?? [:]).sorted(by: { $0.key < $1.key }) { rows.append(("Header \(key)", values.joined(separator: ", "))) }
        for (key, value) in (info.metadata ?? [:]).sorted(by: { $0.key < $1.key }) { rows.append(("Metadata \(key)", value)) }
        return JetStreamToolFormat.table(rows)
    }

    /// `nats-obj status BUCKET` output.
    public static func status(_ status: ObjectStoreStatus) -> [String] {
        var rows: [(String, String)] = [("Bucket", status.bucket)]
        if let description = status.description { rows.append(("Description", description)) }
        rows += [
            ("Stream", status.streamInfo.config.name),
            ("TTL", JetStreamToolFormat.duration(status.ttl)),
            ("Max size", (status.streamInfo.config.maxBytes ?? -1) < 0 ? "unlimited" : JetStreamToolFormat.bytes(UInt64(status.streamInfo.config.maxBytes ?? 0))),
            ("Storage", status.storage.rawValue),
            ("Replicas", "\(status.replicas)"),
            ("Sealed", status.sealed ? "true" : "false"),
            ("Size", JetStreamToolFormat.bytes(status.size)),
            ("Backing store", status.backingStore),
        ]
        for (key, value) in status.metadata.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("_nats") { rows.append(("Metadata \(key)", value)) }
        return JetStreamToolFormat.table(rows)
    }

    /// One line per object for `nats-obj ls BUCKET`: size, chunks, modified, name.
    public static func objectList(_ infos: [ObjectInfo]) -> [String] {
        infos.map { info in
            let size = info.isLink ? "link" : JetStreamToolFormat.bytes(info.size)
            let state = info.deleted ? " (deleted)" : ""
            return "\(size.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(info.chunks).padding(toLength: 7, withPad: " ", startingAt: 0)) \(info.modified ?? "-")  \(info.name)\(state)"
        }
    }

    /// A watch line: time, name, what happened.
    public static func watchLine(_ info: ObjectInfo) -> String {
        let what = info.deleted ? "DEL" : info.isLink ? "LINK" : "PUT \(JetStreamToolFormat.bytes(info.size))"
        return "[\(info.modified ?? "-")] \(what) \(info.bucket) > \(info.name)"
    }

    /// The progress line of a long put or get: bytes done of total, percent, rate, ETA.
    ///
    /// - Parameters: done and total bytes (total nil when unknown), elapsed seconds.
    public static func progress(done: UInt64, total: UInt64?, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = JetStreamToolFormat.bytes(done)
        if let total {
            let percent = total == 0 ? 100 : Int(Double(done) * 100 / Double(total))
            line += " / \(JetStreamToolFormat.bytes(total)) (\(percent)%)"
        }
        line += ", \(JetStreamToolFormat.bytes(UInt64(rate)))/s"
        if let total, rate > 0, done < total {
            let remaining = Int((Double(total - done) / rate).rounded(.up))
            line += ", ETA \(remaining / 60)m\(String(format: "%02d", remaining % 60))s"
        }
        return line
    }
}
