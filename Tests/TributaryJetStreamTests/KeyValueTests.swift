import Foundation
import Testing
import TributaryNATS
@testable import TributaryJetStream

@Suite("Key-value keys and bucket names")
struct KeyValueNamesTests {
    @Test func validKeys() {
        for key in ["a", "A.b.C", "user/1", "x=y", "a-b_c", "0", "..".replacingOccurrences(of: ".", with: "a"), "deep.path.with.many.tokens"] {
            #expect(KeyValueNames.keyProblem(key) == nil, "key '\(key)'")
        }
    }

    @Test func invalidKeysNameTheRule() {
        #expect(KeyValueNames.keyProblem("") == .empty)
        #expect(KeyValueNames.keyProblem(".a") == .leadingDot)
        #expect(KeyValueNames.keyProblem("a.") == .trailingDot)
        #expect(KeyValueNames.keyProblem(".") == .leadingDot)
        #expect(KeyValueNames.keyProblem("a..b") == .emptyToken)
        #expect(KeyValueNames.keyProblem("a b") == .invalidCharacter(" "))
        #expect(KeyValueNames.keyProblem("a\tb") == .invalidCharacter("\t"))
        #expect(KeyValueNames.keyProblem("a*") == .invalidCharacter("*"))
        #expect(KeyValueNames.keyProblem("*") == .invalidCharacter("*"), "no wildcards outside filters")
        #expect(KeyValueNames.keyProblem(">") == .invalidCharacter(">"))
        #expect(KeyValueNames.keyProblem("é") == .invalidCharacter("é"))
        #expect(KeyValueNames.keyProblem("a$b") == .invalidCharacter("$"))
    }

    @Test func filtersAllowWholeTokenWildcards() {
        for filter in ["*", ">", "a.*", "a.>", "*.b.>", "a.*.c"] {
            #expect(KeyValueNames.keyProblem(filter, allowWildcards: true) == nil, "filter '\(filter)'")
        }
        #expect(KeyValueNames.keyProblem("a.>.b", allowWildcards: true) == .misplacedWildcard)
        #expect(KeyValueNames.keyProblem("a*", allowWildcards: true) == .misplacedWildcard)
        #expect(KeyValueNames.keyProblem("a.b>", allowWildcards: true) == .misplacedWildcard)
        #expect(KeyValueNames.keyProblem("a..*", allowWildcards: true) == .emptyToken)
    }

    @Test func errorsSayWhatToDoAndCarryTheRule() {
        do {
            try KeyValueNames.validateKey("bad key", bucket: "b")
            Issue.record("expected an error")
        } catch let error {
            #expect(error.code == .invalidKey)
            #expect(error.keyRule == .invalidCharacter(" "))
            #expect(error.message.contains("U+20"))
            #expect(error.message.contains("choose a key"))
        }
    }

    @Test func bucketNames() {
        #expect(KeyValueNames.bucketProblem("settings_v2-eu") == nil)
        #expect(KeyValueNames.bucketProblem("") == .empty)
        #expect(KeyValueNames.bucketProblem("a.b") == .invalidCharacter("."))
        #expect(KeyValueNames.bucketProblem("a b") == .invalidCharacter(" "))
        #expect(KeyValueNames.bucketProblem("a>") == .invalidCharacter(">"))
        #expect(KeyValueNames.streamName("cfg") == "KV_cfg")
        #expect(KeyValueNames.subjectPrefix("cfg") == "$KV.cfg.")
    }
}

@Suite("Key-value entries decoded from headers and subjects")
struct KeyValueEntryTests {
    @Test func operationsFromHeaders() {
        #expect(KeyValueEntry.operation(from: nil) == .put)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("X-Other", "1")])) == .put)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("KV-Operation", "DEL")])) == .delete)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("KV-Operation", "PURGE"), ("Nats-Rollup", "sub")])) == .purge)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("Nats-Marker-Reason", "MaxAge")])) == .purge)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("Nats-Marker-Reason", "Purge")])) == .purge)
        #expect(KeyValueEntry.operation(from: NATSHeaders([("Nats-Marker-Reason", "Remove")])) == .delete)
    }

    @Test func keysFromSubjects() {
        #expect(KeyValueEntry.key(fromSubject: "$KV.cfg.a.b", bucket: "cfg") == "a.b")
        #expect(KeyValueEntry.key(fromSubject: "$KV.cfg.", bucket: "cfg") == nil)
        #expect(KeyValueEntry.key(fromSubject: "$KV.other.a", bucket: "cfg") == nil)
        #expect(KeyValueEntry.key(fromSubject: "$KV.cfgx.a", bucket: "cfg") == nil)
    }

    @Test func storedMessageDecodes() throws {
        let stored = JetStreamStoredMessage(subject: "$KV.cfg.color", sequence: 7, headers: NATSHeaders([("KV-Operation", "DEL")]),
                                            payload: [], time: "2024-02-29T12:34:56.123456789Z")
        let entry = try KeyValueEntry.decode(stored, bucket: "cfg")
        #expect(entry.key == "color")
        #expect(entry.revision == 7)
        #expect(entry.operation == .delete)
        #expect(abs(entry.created.timeIntervalSince1970 - 1_709_210_096.123456789) < 1e-5)
        let foreign = JetStreamStoredMessage(subject: "orders.1", sequence: 1, headers: nil, payload: [1], time: "")
        #expect(throws: KeyValueError.self) { try KeyValueEntry.decode(foreign, bucket: "cfg") }
    }

    @Test func deliveredMessageDecodes() throws {
        let metadata = try #require(JetStreamMessageMetadata(replySubject: "$JS.ACK.KV_cfg.watch_1.1.42.3.1700000000500000000.9"))
        let entry = try #require(KeyValueEntry.decode(subject: "$KV.cfg.a", headers: nil, payload: Array("v".utf8), metadata: metadata, bucket: "cfg"))
        #expect(entry.revision == 42)
        #expect(entry.delta == 9)
        #expect(entry.string == "v")
        #expect(entry.operation == .put)
        #expect(abs(entry.created.timeIntervalSince1970 - 1_700_000_000.5) < 1e-6)
        #expect(KeyValueEntry.decode(subject: "$KV.other.a", headers: nil, payload: [], metadata: metadata, bucket: "cfg") == nil)
    }

    @Test func rfc3339Times() throws {
        // Date keeps seconds from 2001 as a Double, so compare with a tolerance.
        func seconds(_ text: String) -> Double { RFC3339.parse(text)?.timeIntervalSince1970 ?? -1 }
        #expect(abs(seconds("1970-01-01T00:00:00Z")) < 1e-6)
        #expect(abs(seconds("2000-03-01T00:00:00Z") - 951_868_800) < 1e-6)
        #expect(abs(seconds("2024-01-02T03:04:05+01:30") - (1_704_164_645 - 5400)) < 1e-6)
        let nanos = try #require(RFC3339.parse("2024-01-02T03:04:05.000000001Z"))
        #expect(abs(nanos.timeIntervalSince1970 - 1_704_164_645) < 1e-6)
        for bad in ["", "2024-01-02", "2024-13-02T03:04:05Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05Zjunk", "x024-01-02T03:04:05Z"] {
            #expect(RFC3339.parse(bad) == nil, "'\(bad)'")
        }
    }
}

@Suite("Key-value bucket configuration")
struct KeyValueConfigTests {
    @Test func streamShapeFollowsADR8() throws {
        var config = KeyValueConfig(bucket: "cfg", description: "d", history: 10, ttl: .seconds(30), maxValueSize: 512, maxBytes: 4096)
        config.storage = .memory
        config.replicas = 3
        config.compression = true
        let stream = try config.streamConfig()
        #expect(stream.name == "KV_cfg")
        #expect(stream.subjects == ["$KV.cfg.>"])
        #expect(stream.maxMsgsPerSubject == 10)
        #expect(stream.maxAge == .seconds(30))
        #expect(stream.duplicateWindow == .seconds(30), "the TTL when shorter than 2 minutes")
        #expect(stream.maxMsgSize == 512)
        #expect(stream.maxBytes == 4096)
        #expect(stream.allowRollup == true)
        #expect(stream.denyDelete == true)
        #expect(stream.discard == .new)
        #expect(stream.allowDirect == true)
        #expect(stream.storage == .memory)
        #expect(stream.replicas == 3)
        #expect(stream.compression == .s2)
        #expect(stream.allowMsgTTL == nil)
    }

    @Test func defaults() throws {
        let stream = try KeyValueConfig(bucket: "d").streamConfig()
        #expect(stream.maxMsgsPerSubject == 1)
        #expect(stream.maxAge == .zero)
        #expect(stream.duplicateWindow == .seconds(120))
        #expect(stream.maxMsgSize == -1)
        #expect(stream.maxBytes == -1)
        #expect(stream.storage == .file)
        var marker = KeyValueConfig(bucket: "m")
        marker.limitMarkerTTL = .seconds(5)
        let withMarkers = try marker.streamConfig()
        #expect(withMarkers.allowMsgTTL == true)
        #expect(withMarkers.subjectDeleteMarkerTTL == .seconds(5))
    }

    @Test func outOfRangeFieldsAreNamed() {
        func problem(_ config: KeyValueConfig) -> String? {
            do { _ = try config.streamConfig(); return nil } catch let error { return error.message }
        }
        #expect(problem(KeyValueConfig(bucket: "a", history: 0))?.contains("history") == true)
        #expect(problem(KeyValueConfig(bucket: "a", history: 65))?.contains("history") == true)
        #expect(problem(KeyValueConfig(bucket: "a", maxValueSize: 0))?.contains("maxValueSize") == true)
        #expect(problem(KeyValueConfig(bucket: "a", maxBytes: -5))?.contains("maxBytes") == true)
        #expect(problem(KeyValueConfig(bucket: "a", replicas: 7))?.contains("replicas") == true)
        #expect(problem(KeyValueConfig(bucket: "a b")) != nil)
    }
}

@Suite("Key-value watch: end of the initial values")
struct KeyValueInitialValuesTests {
    /// One input: a call of `takeDueMarker` (nil) or a message with its pending count and hidden flag.
    enum Input { case poll, message(pending: UInt64, hidden: Bool) }

    /// Runs `inputs` and returns what each produced, as a transcript.
    func transcript(initiallyEmpty: Bool, _ inputs: [Input]) -> [String] {
        var state = KeyValueInitialValues(initiallyEmpty: initiallyEmpty)
        return inputs.map { input in
            switch input {
            case .poll: return state.takeDueMarker() ? "marker" : "wait"
            case .message(let pending, let hidden): return "\(state.received(pending: pending, hidden: hidden))"
            }
        }
    }

    @Test func emptyAtStartSendsTheMarkerFirstAndOnce() {
        #expect(transcript(initiallyEmpty: true, [.poll, .poll, .message(pending: 0, hidden: false), .poll])
                == ["marker", "wait", "deliver", "wait"])
    }

    @Test func markerFollowsTheMessageWithNothingPending() {
        #expect(transcript(initiallyEmpty: false, [.poll, .message(pending: 2, hidden: false), .poll, .message(pending: 1, hidden: false),
                                                   .poll, .message(pending: 0, hidden: false), .poll, .message(pending: 0, hidden: false), .poll])
                == ["wait", "deliver", "wait", "deliver", "wait", "deliver", "marker", "deliver", "wait"])
    }

    @Test func aHiddenLastInitialEntryBecomesTheMarker() {
        #expect(transcript(initiallyEmpty: false, [.message(pending: 1, hidden: true), .message(pending: 0, hidden: true),
                                                   .message(pending: 0, hidden: true), .poll, .message(pending: 0, hidden: false), .poll])
                == ["skip", "marker", "skip", "wait", "deliver", "wait"])
    }
}
