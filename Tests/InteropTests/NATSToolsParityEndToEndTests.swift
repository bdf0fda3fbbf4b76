import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// The natscli-parity flags of nats-pub, nats-req, nats-reply and nats-sub, run as a user runs
/// them against the shared nats-server. Every child gets its stdin closed and a bounded wait.
@Suite("nats-* tools: natscli flags end to end")
struct NATSToolsParityEndToEndTests {
    func child(_ tool: String, _ arguments: [String]) throws -> ChildProcess {
        ChildProcess(try toolPath(tool), ["-s", try BrokerEnvironment.natsURL()] + arguments)
    }

    /// Runs a tool to completion with `stdin` (closed at once; empty when nil).
    func run(_ tool: String, _ arguments: [String], stdin: Data = Data(), timeout: Duration = .seconds(20))
        async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try child(tool, arguments)
        try process.start(stdin: stdin)
        return await process.finish(timeout: timeout)
    }

    /// A subscriber that is listening once this returns.
    func subscriber(_ arguments: [String]) async throws -> ChildProcess {
        let sub = try child("nats-sub", arguments)
        try sub.start(stdin: Data())
        try await sub.waitForStderr(containing: "Subscribing on")
        return sub
    }

    /// A replier that is listening once this returns.
    func replier(_ arguments: [String]) async throws -> ChildProcess {
        let reply = try child("nats-reply", arguments)
        try reply.start(stdin: Data())
        try await reply.waitForStderr(containing: "Listening on")
        return reply
    }

    func dumpedMessages(_ directory: URL, count: Int) throws -> [[String: Any]] {
        try (1...count).map { number in
            let data = try Data(contentsOf: directory.appendingPathComponent("\(number).json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tributary-dump-\(UUID().uuidString)/nested")
    }

    // MARK: nats-pub

    @Test func pubSendsAllOfBinaryStdinAsOneMessageAndSubDumpsIt() async throws {
        let subject = uniqueSubject("tools.binary")
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let sub = try await subscriber([subject, "--count", "1", "--dump", directory.path])
        var bytes = Data([0x00, 0xff, 0xfe, 0x0a, 0x0d, 0x0a]) + Data("line two\n{{Count}}".utf8)
        bytes.append(Data((0..<4096).map { UInt8($0 % 256) }))
        let pub = try await run("nats-pub", [subject], stdin: bytes)
        #expect(pub.status == 0, "\(pub.stderr)")
        #expect(pub.stderr == "Published \(bytes.count - "{{Count}}".utf8.count + 1) bytes to \"\(subject)\"\n", "\(pub.stderr)")
        let result = await sub.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let message = try #require(try dumpedMessages(directory, count: 1).first)
        #expect(message["Subject"] as? String == subject)
        #expect(message["Reply"] as? String == "")
        #expect(message["Header"] is NSNull)
        #expect(message["Sub"] is NSNull)
        var expected = bytes
        let template = Data("{{Count}}".utf8)
        let range = try #require(expected.range(of: template))
        expected.replaceSubrange(range, with: Data("1".utf8))
        #expect(Data(base64Encoded: message["Data"] as? String ?? "") == expected)
    }

    @Test func pubTemplatesInBodyAndHeadersWithOneSummaryLine() async throws {
        let subject = uniqueSubject("tools.templates")
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let sub = try await subscriber([subject, "--count", "30", "--dump", directory.path])
        let before = Int(Date().timeIntervalSince1970)
        let pub = try await run("nats-pub", [subject, "--count", "30", "-H", "Seq:{{Count}}", "-H", "Id:{{ID}}",
                                             "{{Count}}|{{Unix}}|{{UnixNano}}|{{TimeStamp}}|{{Time}}|{{Random 3 6}}|{{Other}}"])
        #expect(pub.status == 0, "\(pub.stderr)")
        // One summary line for the whole run, none per message.
        let lines = pub.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("Published 30 messages ("), "\(pub.stderr)")
        #expect(await sub.finish().status == 0)
        let messages = try dumpedMessages(directory, count: 30)
        var ids = Set<String>()
        for (index, message) in messages.enumerated() {
            let payload = String(decoding: Data(base64Encoded: message["Data"] as? String ?? "") ?? Data(), as: UTF8.self)
            let fields = payload.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 7, "\(payload)")
            #expect(fields[0] == String(index + 1))
            let unix = try #require(Int(fields[1]))
            #expect(unix >= before && unix <= before + 60)
            #expect(Int(fields[2]).map { $0 / 1_000_000_000 } == unix)
            #expect(fields[3].range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$"#, options: .regularExpression) != nil, "\(fields[3])")
            #expect(fields[4].range(of: #"^\d{1,2}:\d\d(AM|PM)$"#, options: .regularExpression) != nil, "\(fields[4])")
            #expect(fields[5].range(of: #"^[a-zA-Z0-9]{3,6}$"#, options: .regularExpression) != nil, "\(fields[5])")
            #expect(fields[6] == "{{Other}}")
            let header = try #require(message["Header"] as? [String: [String]])
            #expect(header["Seq"] == [String(index + 1)])
            let id = try #require(header["Id"]?.first)
            #expect(id.count == 22)
            ids.insert(id)
        }
        #expect(ids.count == 30, "every {{ID}} is unique")
    }

    @Test func pubSendOnNewlineWithNoTemplates() async throws {
        let subject = uniqueSubject("tools.newline")
        let sub = try await subscriber([subject, "--count", "3"])
        let pub = try await run("nats-pub", [subject, "--send-on", "newline", "--no-templates"], stdin: Data("a {{Count}}\r\nb\nc".utf8))
        #expect(pub.status == 0, "\(pub.stderr)")
        #expect(pub.stderr == "Published 3 messages (13 bytes) to \"\(subject)\"\n", "\(pub.stderr)")
        let result = await sub.finish()
        #expect(result.stdout.contains("[#1] Received on \"\(subject)\"\na {{Count}}\n"), "\(result.stdout)")
        #expect(result.stdout.contains("[#3] Received on \"\(subject)\"\nc\n"), "\(result.stdout)")
    }

    // MARK: nats-req and nats-reply

    @Test func reqSendsStdinAndReplyEchoesWithTheCounterHeader() async throws {
        let subject = uniqueSubject("tools.echo")
        let reply = try await replier([subject, "--count", "2"])
        let first = try await run("nats-req", [subject, "-H", "Trace:t1"], stdin: Data("from stdin".utf8))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "Trace: t1\nNATS-Reply-Counter: 0\n\nfrom stdin\n", "\(first.stdout)")
        let second = try await run("nats-req", [subject, "again"])
        #expect(second.stdout == "NATS-Reply-Counter: 1\n\nagain\n", "\(second.stdout)")
        let replyResult = await reply.finish()
        #expect(replyResult.status == 0)
        #expect(replyResult.stderr.contains("No body or command supplied, enabling echo mode"), "\(replyResult.stderr)")
    }

    @Test func replyCommandRequestTemplateAndSleep() async throws {
        let subject = uniqueSubject("tools.cmd")
        let upper = try await replier(["\(subject).>", "--count", "1", "--command", "printf '%s:' {{3}}; tr a-z A-Z"])
        let shouted = try await run("nats-req", ["\(subject).tok", "whisper", "--raw"])
        #expect(shouted.status == 0 && shouted.stdout == "tok:WHISPER\n", "\(shouted.stdout) \(shouted.stderr)")
        #expect(await upper.finish().status == 0)

        let templated = try await replier([subject, "--count", "1", "--sleep", "50ms", "you said {{Request}} (#{{Count}})"])
        let answer = try await run("nats-req", [subject, "hello", "-r"])
        #expect(answer.stdout == "you said hello (#1)\n", "\(answer.stdout)")
        #expect(await templated.finish().status == 0)
    }

    @Test func reqCountAndReplies() async throws {
        let subject = uniqueSubject("tools.many")
        // Two responders outside any queue group: every request gets two replies.
        let one = try await replier([subject, "--queue", "", "one {{Count}}"])
        let two = try await replier([subject, "--queue=", "two {{Count}}"])
        let all = try await run("nats-req", [subject, "q", "--replies", "0", "--timeout", "1s", "--raw"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(Set(all.stdout.split(separator: "\n")) == ["one 1", "two 1"], "\(all.stdout)")

        let clock = ContinuousClock()
        let start = clock.now
        let counted = try await run("nats-req", [subject, "q", "--count", "2", "--replies", "2", "--timeout", "10s"])
        #expect(counted.status == 0, "\(counted.stderr)")
        #expect(counted.stderr.components(separatedBy: "Sending request on").count - 1 == 2, "\(counted.stderr)")
        #expect(counted.stderr.components(separatedBy: "Received with rtt").count - 1 == 4, "\(counted.stderr)")
        #expect(clock.now - start < .seconds(8), "--replies 2 stops at the second reply, not at --timeout")

        // --replies 3 with two responders: the third never comes; the gap rule ends the wait well before --timeout.
        let gap = try await run("nats-req", [subject, "q", "--replies", "3", "--reply-timeout", "200ms", "--timeout", "30s", "-r"])
        #expect(gap.status == 0 && gap.stdout.split(separator: "\n").count == 2, "\(gap.stdout) \(gap.stderr)")

        // SIGTERM ends a replier with status 0, as Ctrl-C does.
        one.process.signal(SIGTERM)
        two.process.signal(SIGTERM)
        #expect(await one.finish(timeout: .seconds(10)).status == 0)
        #expect(await two.finish(timeout: .seconds(10)).status == 0)
    }

    @Test func reqRepliesWithoutResponders() async throws {
        let nobody = try await run("nats-req", [uniqueSubject("tools.nobody"), "x", "--replies", "0", "--timeout", "500ms"])
        #expect(nobody.status == 1 && nobody.stderr.contains("no responders"), "\(nobody.stderr)")
    }

    // MARK: nats-sub

    @Test func subTranslateSubjectsOnlyAndInbox() async throws {
        let subject = uniqueSubject("tools.translate")
        let translate = try await subscriber([subject, "--count", "1", "--translate", "tr a-z A-Z"])
        let subjectsOnly = try await subscriber([subject, "--count", "1", "--subjects-only"])
        let pub = try await run("nats-pub", [subject, "quiet words", "-H", "K:v"])
        #expect(pub.status == 0)
        let translated = await translate.finish()
        #expect(translated.stdout == "[#1] Received on \"\(subject)\"\nK: v\n\nQUIET WORDS\n\n", "\(translated.stdout)")
        let only = await subjectsOnly.finish()
        #expect(only.stdout == "[#1] Received on \"\(subject)\"\n", "\(only.stdout)")

        let inbox = try child("nats-sub", ["-ri", "--count", "1"])  // grouped short switches: --raw --inbox
        try inbox.start(stdin: Data())
        try await inbox.waitForStderr(containing: "Subscribing on _INBOX.")
        let fullErr = try await stderrSoFar(inbox)
        let name = try #require(fullErr.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) })
        let toInbox = try await run("nats-pub", [name, "to the inbox", "-q"])
        #expect(toInbox.status == 0)
        let received = await inbox.finish()
        #expect(received.stdout == "to the inbox\n", "\(received.stdout)")
    }

    @Test func subMatchesRepliesToRequests() async throws {
        let subject = uniqueSubject("tools.match")
        let watcher = try await subscriber([subject, "--count", "2", "--match-replies"])
        #expect(try await stderrSoFar(watcher).contains("Matching replies with inbox prefix _INBOX.>"))
        let reply = try await replier([subject, "--count", "1", "pong"])
        let req = try await run("nats-req", [subject, "ping", "-r"])
        #expect(req.stdout == "pong\n")
        let pub = try await run("nats-pub", [subject, "no reply wanted", "-q"])
        #expect(pub.status == 0)
        let result = await watcher.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.range(of: #"\[#1\] Received on "[^"]+" with reply "_INBOX\.[^"]+"\nping\n\n\[#1\] Matched reply on "_INBOX\.[^"]+"\npong\n\n"#,
                                    options: .regularExpression) != nil, "\(result.stdout)")
        #expect(result.stdout.contains("[#2] Received on \"\(subject)\"\nno reply wanted\n"), "\(result.stdout)")
        #expect(await reply.finish().status == 0)
    }

    // MARK: helpers

    func stderrSoFar(_ child: ChildProcess) async throws -> String {
        child.stderrSnapshot
    }
}

/// nats-bench in the nats CLI's shape against the shared server.
@Suite("nats-bench end to end")
struct NATSBenchEndToEndTests {
    @Test func positionalSubjectClientsAndCSV() async throws {
        let url = try BrokerEnvironment.natsURL()
        let subject = uniqueSubject("tools.bench")
        let sub = ChildProcess(try toolPath("nats-sub"), ["-s", url, subject, "--count", "100", "--subjects-only"])
        try sub.start(stdin: Data())
        try await sub.waitForStderr(containing: "Subscribing on")
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        let bench = ChildProcess(try toolPath("nats-bench"), ["pub", subject, "-s", url, "--msgs=100", "--size", "1KB",
                                                             "--clients", "3", "--csv", csv.path, "--sleep", "1ms"])
        try bench.start(stdin: Data())
        let result = await bench.finish(timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        let json = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(json.contains("\"msgs\":100") && json.contains("\"size\":1024") && !json.contains("partial"), "\(json)")
        // Not a terminal: no progress line, just the CSV note.
        #expect(result.stderr == "Saved metric data in csv file \(csv.path)\n", "\(result.stderr)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs", "\(rows)")
        #expect(rows.count == 4, "\(rows)")
        let counts = rows.dropFirst().map { $0.split(separator: ",")[2] }.compactMap { Int($0) }
        #expect(counts.reduce(0, +) == 100 && Set(rows.dropFirst().map { $0.split(separator: ",")[1] }) == ["P0", "P1", "P2"], "\(rows)")
        let received = await sub.finish()
        #expect(received.status == 0 && received.stdout.split(separator: "\n").count == 100, "\(received.stderr)")
    }

    @Test func pubsubCountsEveryMessageWithASequenceAndWithAHandler() async throws {
        let url = try BrokerEnvironment.natsURL()
        for extra in [[], ["--handler"]] {
            let bench = ChildProcess(try toolPath("nats-bench"), ["pubsub", uniqueSubject("tools.bench"), "-s", url, "--msgs", "20000"] + extra)
            try bench.start(stdin: Data())
            let result = await bench.finish(timeout: .seconds(60))
            #expect(result.status == 0, "\(extra): \(result.stderr)")
            let json = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(json.contains("\"received\":20000") && json.contains("\"dropped\":0") && json.contains("\"mode\":\"pubsub\""), "\(extra): \(json)")
        }
    }

    @Test func ctrlCPrintsAPartialSummary() async throws {
        let bench = ChildProcess(try toolPath("nats-bench"), ["pub", uniqueSubject("tools.bench"), "-s", try BrokerEnvironment.natsURL(),
                                                             "--msgs", "1000000000", "--sleep", "1ms"])
        try bench.start(stdin: Data())
        try await Task.sleep(for: .seconds(2))
        bench.process.signal(SIGINT)
        let result = await bench.finish(timeout: .seconds(15))
        #expect(result.status == 0, "\(result.stderr)")
        let json = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(json.contains("\"partial\":true") && json.contains("\"mode\":\"pub\""), "\(result.stdout) \(result.stderr)")
        #expect(!json.contains("\"msgs\":1000000000"), "\(json)")
    }
}
