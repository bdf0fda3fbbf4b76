import Testing
import TributaryNATSProtocol
import TributaryTestSupport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("NATS parser: golden frames, split reads")
struct NATSParserTests {
    @Test func everyServerOperationDecodesHoweverSplit() throws {
        var statusHeaders = NATSHeaders()
        statusHeaders.status = 503
        var multi = NATSHeaders()
        multi.append("1", for: "X-Seq")
        multi.append("a", for: "X-Multi")
        multi.append("b", for: "X-Multi")
        let hdrBlock = "NATS/1.0\r\nX-Seq: 1\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n"
        let cases: [(input: [UInt8], expected: [NATSServerOp])] = [
            (bytes("PING\r\n"), [.ping]),
            (bytes("PONG\r\n"), [.pong]),
            (bytes("+OK\r\n"), [.ok]),
            (bytes("-ERR 'Authorization Violation'\r\n"), [.err("Authorization Violation")]),
            (bytes("MSG foo.bar 9 5\r\nhello\r\n"), [.msg(NATSMessage(subject: "foo.bar", payload: bytes("hello"), sid: 9))]),
            (bytes("MSG foo 1 _INBOX.x.1 0\r\n\r\n"), [.msg(NATSMessage(subject: "foo", replyTo: "_INBOX.x.1", payload: [], sid: 1))]),
            (bytes("MSG  foo\t2   3\r\n\r\n\r\r\n"), [.msg(NATSMessage(subject: "foo", payload: [13, 10, 13], sid: 2))]),
            (bytes("HMSG orders.1 3 \(hdrBlock.utf8.count) \(hdrBlock.utf8.count + 2)\r\n\(hdrBlock)hi\r\n"),
             [.msg(NATSMessage(subject: "orders.1", headers: multi, payload: bytes("hi"), sid: 3))]),
            (bytes("HMSG _INBOX.a.7 4 r.1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"),
             [.msg(NATSMessage(subject: "_INBOX.a.7", replyTo: "r.1", headers: statusHeaders, payload: [], sid: 4))]),
            (bytes("msg lower 5 1\r\nx\r\n"), [.msg(NATSMessage(subject: "lower", payload: bytes("x"), sid: 5))]),
        ]
        try NATSDecoderVerifier.verify(cases)
    }

    @Test func infoDecodesServerFields() throws {
        let json = #"{"server_id":"ID1","server_name":"n1","version":"2.15.1","proto":1,"host":"127.0.0.1","port":4222,"headers":true,"max_payload":1048576,"client_id":7,"connect_urls":["127.0.0.1:4223"],"ldm":true}"#
        let result = NATSDecoderVerifier.decodeAll(bytes("INFO \(json)\r\n"))
        guard case .success(let ops) = result, case .info(let info) = ops.first else {
            Issue.record("expected INFO, got \(result)")
            return
        }
        #expect(info.serverID == "ID1")
        #expect(info.version == "2.15.1")
        #expect(info.maxPayload == 1_048_576)
        #expect(info.headers)
        #expect(info.connectURLs == ["127.0.0.1:4223"])
        #expect(info.lameDuckMode)
        #expect(info.clientID == 7)
    }

    @Test func hmsgStatusWithDescription() throws {
        let block = "NATS/1.0 408 Request Timeout\r\n\r\n"
        let result = NATSDecoderVerifier.decodeAll(bytes("HMSG s 1 \(block.utf8.count) \(block.utf8.count)\r\n\(block)\r\n"))
        guard case .success(let ops) = result, case .msg(let message) = ops.first else {
            Issue.record("expected HMSG, got \(result)")
            return
        }
        #expect(message.status == 408)
        #expect(message.headers?.statusDescription == "Request Timeout")
    }

    @Test func parserBufferCompactsAndKeepsWorkingOverManyFrames() throws {
        var parser = NATSParser(initialCapacity: 256)
        var count = 0
        for i in 0..<5000 {
            parser.append(bytes("MSG s.\(i) 1 3\r\nabc\r\n"))
            while let op = try parser.next() {
                guard case .msg(let message) = op else { Issue.record("unexpected \(op)"); return }
                #expect(message.subject == "s.\(count)")
                count += 1
            }
        }
        #expect(count == 5000)
        #expect(parser.bufferedCount == 0)
    }
}

@Suite("NATS parser: malformed input gives typed errors")
struct NATSParserMalformedTests {
    func expectError(_ input: String, _ code: NATSProtocolError.Code, maxPayload: Int = 1 << 20,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let result = NATSDecoderVerifier.decodeAll(bytes(input), makeParser: { NATSParser(maxPayload: maxPayload) })
        guard case .failure(let error) = result else {
            Issue.record("expected \(code) for \(input.debugDescription), got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func nonNumericSizes() {
        expectError("MSG foo 1 abc\r\nabc\r\n", .badArguments)
        expectError("MSG foo x 3\r\nabc\r\n", .badArguments)
        expectError("HMSG foo 1 zz 10\r\n", .badArguments)
        expectError("MSG foo 1 -3\r\n", .badArguments)
    }

    @Test func wrongArgumentCounts() {
        expectError("MSG foo\r\n", .badArguments)
        expectError("MSG a b c d e f\r\n", .badArguments)
        expectError("HMSG foo 1 3\r\n", .badArguments)
    }

    @Test func headerSizeLargerThanTotal() {
        expectError("HMSG foo 1 20 10\r\n", .badArguments)
    }

    @Test func missingCRLF() {
        expectError("PING\n", .missingCRLF)
        expectError("MSG foo 1 3\r\nabcXY", .missingCRLF)
        expectError("MSG foo 1 3\nabc\r\n", .missingCRLF)
    }

    @Test func oversizePayloadRejectedBeforeAllocation() {
        expectError("MSG foo 1 2000\r\n", .payloadTooLarge, maxPayload: 1024)
        expectError("MSG foo 1 99999999999999999999999999\r\n", .badArguments)
        expectError("HMSG foo 1 12 5000000\r\n", .payloadTooLarge, maxPayload: 1024)
    }

    @Test func controlLineTooLong() {
        expectError("MSG " + String(repeating: "a", count: 5000) + " 1 0\r\n\r\n", .controlLineTooLong)
        expectError(String(repeating: "x", count: 4200), .controlLineTooLong)
    }

    @Test func unknownOperation() {
        expectError("HELLO world\r\n", .unknownOperation)
        expectError("PUB foo 3\r\nabc\r\n", .unknownOperation)
    }

    @Test func badHeaderBlock() {
        expectError("HMSG foo 1 8 8\r\nHTTP/1\r\n\r\n", .badHeaders)
        expectError("HMSG foo 1 19 19\r\nNATS/1.0\r\nnocolon\r\n\r\n", .badHeaders)
        expectError("HMSG foo 1 14 14\r\nNATS/1.0 5x3\r\n\r\n", .badHeaders)
    }

    @Test func badInfoJSON() {
        expectError("INFO {not json\r\n", .badInfo)
    }

    @Test func errorsCarryOffsetAndExcerpt() {
        let result = NATSDecoderVerifier.decodeAll(bytes("PONG\r\nMSG foo 1 abc\r\n"))
        guard case .failure(let error) = result else { Issue.record("expected failure"); return }
        #expect(error.offset == 6)
        #expect(error.excerpt.hasPrefix("4d 53 47"))
    }

    @Test func randomAndMutatedInputNeverCrashes() {
        var rng = SeededRandom()
        let seeds = [
            "MSG foo.bar 9 5\r\nhello\r\n", "HMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", "PING\r\n", "-ERR 'x'\r\n",
            #"INFO {"max_payload":10}"# + "\r\n",
        ].map(bytes)
        for round in 0..<3000 {
            var input: [UInt8]
            if round % 3 == 0 {
                input = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !input.isEmpty {
                    let at = Int.random(in: 0..<input.count, using: &rng)
                    switch Int.random(in: 0...2, using: &rng) {
                    case 0: input[at] = UInt8.random(in: 0...255, using: &rng)
                    case 1: input.remove(at: at)
                    default: input.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                    }
                }
            }
            var parser = NATSParser(maxPayload: 4096)
            parser.append(input)
            var frames = 0
            while frames < 100 {
                do {
                    guard try parser.next() != nil else { break }
                    frames += 1
                } catch {
                    break
                }
            }
            #expect(frames < 100, "seed \(rng.seed): parser looped on \(input)")
            #expect(parser.bufferedCount <= input.count, "seed \(rng.seed)")
        }
    }
}
