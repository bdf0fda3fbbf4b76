import Foundation
import Testing
import ToolSupport
import TributaryNATS

/// Flag parsing of nats-pub, nats-req, nats-reply and nats-sub (natscli's names and defaults).
@Suite("nats-* tool flags")
struct NATSToolCommandTests {
    func parse<Command: ToolCommand>(_ type: Command.Type, _ arguments: [String]) throws -> Command {
        try #require(try Command.parse(arguments, environment: [:]))
    }

    func usageError<Command: ToolCommand>(_ type: Command.Type, _ arguments: [String]) -> String? {
        do {
            _ = try Command.parse(arguments, environment: [:])
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: nats-pub

    @Test func pubSendOnAndStdinDefault() throws {
        let plain = try parse(PublishCommand.self, ["s"])
        #expect(plain.body == nil && plain.sendOn == .eof && plain.templates)
        #expect(try parse(PublishCommand.self, ["s", "--send-on", "newline"]).sendOn == .newline)
        #expect(try parse(PublishCommand.self, ["s", "--send-on=EOF"]).sendOn == .eof)
        #expect(usageError(PublishCommand.self, ["s", "--send-on", "line"])?.contains("expected eof or newline") == true)
        #expect(usageError(PublishCommand.self, ["s", "body", "--send-on", "newline"])?.contains("--send-on applies") == true)
        // --count repeats a stdin body too, as in the nats CLI.
        #expect(try parse(PublishCommand.self, ["s", "--count", "3"]).count == 3)
    }

    @Test func pubTemplatesAndNoTemplates() throws {
        let context = BodyTemplate.Context(unixNanoseconds: 0)
        let templated = try parse(PublishCommand.self, ["s", "n{{Count}}", "-H", "K:{{Count}}"])
        #expect(templated.body?.render(count: 2, context: context) == Array("n2".utf8))
        #expect(templated.headers?.render(count: 2, context: context)["K"] == "2")
        let literal = try parse(PublishCommand.self, ["s", "n{{Count}}", "--no-templates"])
        #expect(literal.body?.render(count: 2, context: context) == Array("n{{Count}}".utf8))
        #expect(literal.stdinBody(Array("{{Count}}".utf8)).render(count: 2, context: context) == Array("{{Count}}".utf8))
        #expect(templated.stdinBody(Array("{{Count}}".utf8)).render(count: 2, context: context) == Array("2".utf8))
    }

    @Test func shortSwitchesCombine() throws {
        let grouped = try parse(PublishCommand.self, ["-qJ", "s", "b"])
        #expect(grouped.quiet && grouped.jetstream)
        let sub = try parse(SubscribeCommand.self, ["-ri", "--count", "1"])
        #expect(sub.style.raw && sub.inbox)
        #expect(usageError(PublishCommand.self, ["-qx", "s"])?.contains("unknown flag '-x' in '-qx'") == true)
        // A letter that takes a value keeps its attached value.
        #expect(try parse(PublishCommand.self, ["-sNATS://h:1", "s"]).connection.servers == "NATS://h:1")
        #expect(try parse(ReplyCommand.self, ["-qworkers", "s"]).queue == "workers")
    }

    // MARK: nats-req

    @Test func reqRepliesCountAndStdin() throws {
        let plain = try parse(RequestCommand.self, ["s"])
        #expect(plain.body == nil && plain.count == 1 && plain.replies == 1 && plain.replyTimeout == .milliseconds(300))
        let many = try parse(RequestCommand.self, ["s", "b", "--count", "3", "--replies", "0", "--reply-timeout", "1s"])
        #expect(many.count == 3 && many.replies == 0 && many.replyTimeout == .seconds(1))
        #expect(usageError(RequestCommand.self, ["s", "--replies", "-1"]) != nil)
        #expect(usageError(RequestCommand.self, ["s", "--count", "0"])?.contains("at least 1") == true)
        #expect(usageError(RequestCommand.self, ["s", "--reply-timeout", "5"])?.contains("--reply-timeout") == true)
    }

    @Test func reqWaitsLikeTheNatsCLI() throws {
        let two = try parse(RequestCommand.self, ["s", "b", "--replies", "2", "--reply-timeout", "100ms"])
        #expect(two.gapAfterReply(received: 0, totalRoundTrip: .zero) == nil)
        #expect(two.gapAfterReply(received: 2, totalRoundTrip: .milliseconds(40)) == .milliseconds(120))
        let all = try parse(RequestCommand.self, ["s", "b", "--replies", "0"])
        #expect(all.gapAfterReply(received: 3, totalRoundTrip: .milliseconds(3)) == nil)
    }

    // MARK: nats-reply

    @Test func replyModes() throws {
        let echo = try parse(ReplyCommand.self, ["s"])
        #expect(echo.mode == .echo && echo.echoByDefault)
        let explicitEcho = try parse(ReplyCommand.self, ["s", "--echo"])
        #expect(explicitEcho.mode == .echo && !explicitEcho.echoByDefault)
        #expect(try parse(ReplyCommand.self, ["s", "--command", "tr a-z A-Z"]).mode == .command("tr a-z A-Z"))
        #expect(usageError(ReplyCommand.self, ["s", "body", "--command", "cat"])?.contains("only one of BODY, --echo and --command") == true)
        #expect(usageError(ReplyCommand.self, ["s", "--command", " "])?.contains("--command needs") == true)
        let sleepy = try parse(ReplyCommand.self, ["s", "b", "--sleep", "250ms"])
        #expect(sleepy.sleep == .milliseconds(250))
    }

    @Test func replyEchoAddsTheCounterHeader() throws {
        let command = try parse(ReplyCommand.self, ["s", "-H", "Via:{{Count}}"])
        let request = NATSMessage(subject: "s", replyTo: "_INBOX.1", headers: NATSHeaders([("A", "1")]), payload: Array("ping".utf8))
        let response = try #require(command.response(to: request, number: 1, context: .init(unixNanoseconds: 0)))
        #expect(response.payload == Array("ping".utf8))
        let headers = try #require(response.headers)
        #expect(headers.map(\.name) == ["Via", "A", ReplyCommand.replyCounterHeader])
        #expect(headers[ReplyCommand.replyCounterHeader] == "0", "the nats CLI counts requests answered before this one")
        let third = try #require(command.response(to: request, number: 3, context: .init(unixNanoseconds: 0)))
        #expect(third.headers?[ReplyCommand.replyCounterHeader] == "2")
    }

    @Test func replyBodyRequestTemplateAndCommandTokens() throws {
        let command = try parse(ReplyCommand.self, ["s.>", "#{{Count}}: {{Request}}"])
        let request = NATSMessage(subject: "s.x", replyTo: "_INBOX.1", payload: Array("hi".utf8))
        #expect(command.response(to: request, number: 2, context: .init(unixNanoseconds: 0))?.payload == Array("#2: hi".utf8))
        #expect(command.commandLine(for: "s.x") == nil)
        let shell = try parse(ReplyCommand.self, ["weather.>", "--command", "echo {{1}} {{0}} {{2}}"])
        #expect(shell.commandLine(for: "weather.london") == "echo london weather {{2}}")
        #expect(shell.response(to: request, number: 1, context: .init(unixNanoseconds: 0)) == nil)
    }

    @Test func emptyQueueMeansNoQueueGroupEverywhere() throws {
        #expect(try parse(ReplyCommand.self, ["s"]).queue == ReplyCommand.defaultQueue)
        #expect(try parse(ReplyCommand.self, ["s", "--queue", ""]).queue == nil)
        #expect(try parse(ReplyCommand.self, ["s", "--queue="]).queue == nil)
        #expect(try parse(SubscribeCommand.self, ["s", "--queue", ""]).queue == nil)
        #expect(try parse(SubscribeCommand.self, ["s", "--queue", "w"]).queue == "w")
        #expect(usageError(SubscribeCommand.self, ["s", "--queue", "a b"])?.contains("invalid queue group") == true)
    }

    // MARK: nats-sub

    @Test func subNewFlags() throws {
        let dump = try parse(SubscribeCommand.self, ["s", "--dump", "/tmp/d", "--translate", "jq .", "--subjects-only", "--match-replies"])
        #expect(dump.dumpDirectory == "/tmp/d" && dump.translate == "jq ." && dump.style.subjectsOnly && dump.matchReplies)
        let inbox = try parse(SubscribeCommand.self, ["--inbox"])
        #expect(inbox.inbox && inbox.subjects.isEmpty)
        #expect(usageError(SubscribeCommand.self, ["--inbox", "s"])?.contains("give no SUBJECT") == true)
        #expect(usageError(SubscribeCommand.self, [])?.contains("missing SUBJECT") == true)
        #expect(usageError(SubscribeCommand.self, ["s", "--dump", "-"])?.contains("not supported") == true)
        #expect(usageError(SubscribeCommand.self, ["s", "--stream", "S", "--match-replies"]) != nil)
        #expect(usageError(SubscribeCommand.self, ["s", "-r", "--subjects-only"]) != nil)
        #expect(usageError(SubscribeCommand.self, ["s", "--translate", ""])?.contains("--translate needs") == true)
    }

    @Test func subjectsOnlyAndMatchedReplyLayout() {
        let request = NATSMessage(subject: "svc", replyTo: "_INBOX.a", payload: Array("ping".utf8))
        let reply = NATSMessage(subject: "_INBOX.a", headers: NATSHeaders([("K", "v")]), payload: Array("pong".utf8))
        let subjectsOnly = MessageFormat.message(request, number: 4, style: .init(subjectsOnly: true))
        #expect(String(decoding: subjectsOnly, as: UTF8.self) == "[#4] Received on \"svc\" with reply \"_INBOX.a\"\n")
        let matched = MessageFormat.message(request, number: 1, style: .init(), matchedReply: reply)
        #expect(String(decoding: matched, as: UTF8.self) == """
        [#1] Received on "svc" with reply "_INBOX.a"
        ping

        [#1] Matched reply on "_INBOX.a"
        K: v

        pong


        """)
    }

    @Test func dumpJSONHasTheNatsCLIShape() throws {
        let message = NATSMessage(subject: "o<1>", replyTo: nil,
                                  headers: NATSHeaders([("b", "2"), ("A", "x&y"), ("b", "3")]), payload: [0xff, 0x00, 0x41])
        let text = String(decoding: MessageFormat.dumpJSON(message), as: UTF8.self)
        #expect(text == #"{"Subject":"o\u003c1\u003e","Reply":"","Header":{"A":["x\u0026y"],"b":["2","3"]},"Data":"/wBB","Sub":null}"#)
        let bare = String(decoding: MessageFormat.dumpJSON(NATSMessage(subject: "s", replyTo: "r", payload: [])), as: UTF8.self)
        #expect(bare == #"{"Subject":"s","Reply":"r","Header":null,"Data":"","Sub":null}"#)
        // It is JSON a standard parser accepts, with the payload recoverable.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(MessageFormat.dumpJSON(message))) as? [String: Any])
        #expect(Data(base64Encoded: object["Data"] as? String ?? "") == Data([0xff, 0x00, 0x41]))
    }

    @Test func replyMatcherPairsRequestsWithReplies() {
        let matcher = ReplyMatcher()
        #expect(matcher.hold(NATSMessage(subject: "svc", replyTo: "_INBOX.1", payload: []), number: 3) == nil)
        #expect(matcher.hold(NATSMessage(subject: "svc", payload: []), number: 4) == nil)
        #expect(matcher.pendingCount == 1)
        #expect(matcher.take(NATSMessage(subject: "_INBOX.2", payload: Array("early".utf8))) == nil)
        #expect(matcher.take(NATSMessage(subject: "_INBOX.1", payload: []))?.number == 3)
        #expect(matcher.pendingCount == 0)
        // A reply handled before its request is kept for it.
        let early = matcher.hold(NATSMessage(subject: "svc", replyTo: "_INBOX.2", payload: []), number: 5)
        #expect(early?.payload == Array("early".utf8) && matcher.pendingCount == 0)
        // Unmatched replies are bounded.
        for index in 0...(ReplyMatcher.earlyReplyLimit + 10) {
            _ = matcher.take(NATSMessage(subject: "_INBOX.x\(index)", payload: []))
        }
        #expect(matcher.hold(NATSMessage(subject: "svc", replyTo: "_INBOX.x0", payload: []), number: 6) == nil, "the oldest was dropped")
        #expect(matcher.hold(NATSMessage(subject: "svc", replyTo: "_INBOX.x\(ReplyMatcher.earlyReplyLimit + 10)", payload: []), number: 7) != nil)
    }

    @Test func printerClaimsNumbersUpToTheLimit() {
        let printer = MessagePrinter(style: .init(), limit: 2, destination: .dump(directory: "/nonexistent"))
        #expect(printer.claimNumber()! == (1, false))
        #expect(printer.claimNumber()! == (2, true))
        #expect(printer.claimNumber() == nil && printer.limitReached)
    }
}
