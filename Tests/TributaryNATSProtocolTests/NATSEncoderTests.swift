import Foundation
import Testing
import TributaryNATSProtocol

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("NATS encoder: byte-exact client frames")
struct NATSEncoderTests {
    @Test func publish() {
        var out: [UInt8] = []
        Array("hello".utf8).withUnsafeBytes { NATSEncoder.appendPublish(subject: "foo.bar", replyTo: nil, payload: $0, into: &out) }
        #expect(text(out) == "PUB foo.bar 5\r\nhello\r\n")
        out.removeAll()
        [UInt8]().withUnsafeBytes { NATSEncoder.appendPublish(subject: "a", replyTo: "_INBOX.x.1", payload: $0, into: &out) }
        #expect(text(out) == "PUB a _INBOX.x.1 0\r\n\r\n")
    }

    @Test func headerPublish() {
        var headers = NATSHeaders()
        headers.append("1", for: "X-Seq")
        headers.append("a", for: "X-Multi")
        headers.append("b", for: "X-Multi")
        let block = headers.encoded
        #expect(text(block) == "NATS/1.0\r\nX-Seq: 1\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n")
        var out: [UInt8] = []
        Array("hi".utf8).withUnsafeBytes {
            NATSEncoder.appendHeaderPublish(subject: "orders.1", replyTo: "r", headerBlock: block, payload: $0, into: &out)
        }
        #expect(text(out) == "HPUB orders.1 r 46 48\r\nNATS/1.0\r\nX-Seq: 1\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nhi\r\n")
    }

    /// Encoding the headers in place writes the same frame as encoding them first: the length
    /// in the HPUB line comes from `wireSize`, so it must match what `encode(into:)` writes.
    @Test(arguments: [
        NATSHeaders([("X-Seq", "1"), ("X-Multi", "a"), ("X-Multi", "b")]),
        NATSHeaders(),
        NATSHeaders([("Nats-Msg-Id", "topic/2/123456"), ("Empty", ""), ("Ünïcode-Value", "€ and ✓")]),
        { var h = NATSHeaders(); h.status = 503; return h }(),
        { var h = NATSHeaders([("A", "b")]); h.status = 8; h.statusDescription = "Odd Status"; return h }(),
        { var h = NATSHeaders(); h.status = 1234; h.statusDescription = ""; return h }(),
    ])
    func headerPublishInPlaceMatchesABlock(headers: NATSHeaders) {
        var fromBlock: [UInt8] = []
        var inPlace: [UInt8] = []
        Array("payload".utf8).withUnsafeBytes {
            NATSEncoder.appendHeaderPublish(subject: "s.1", replyTo: "_INBOX.r", headerBlock: headers.encoded, payload: $0, into: &fromBlock)
            NATSEncoder.appendHeaderPublish(subject: "s.1", replyTo: "_INBOX.r", headers: headers, payload: $0, into: &inPlace)
        }
        #expect(text(inPlace) == text(fromBlock))
        #expect(headers.encoded.count == headers.wireSize)
    }

    @Test func subscribeUnsubscribePingPong() {
        var out: [UInt8] = []
        NATSEncoder.appendSubscribe(subject: "orders.>", queue: nil, sid: 1, into: &out)
        NATSEncoder.appendSubscribe(subject: "work", queue: "workers", sid: 22, into: &out)
        NATSEncoder.appendUnsubscribe(sid: 1, max: nil, into: &out)
        NATSEncoder.appendUnsubscribe(sid: 22, max: 10, into: &out)
        NATSEncoder.appendPing(into: &out)
        NATSEncoder.appendPong(into: &out)
        #expect(text(out) == "SUB orders.> 1\r\nSUB work workers 22\r\nUNSUB 1\r\nUNSUB 22 10\r\nPING\r\nPONG\r\n")
    }

    @Test func connectCarriesOptionsAsJSON() throws {
        var options = NATSConnectOptions()
        options.name = "svc"
        options.user = "u"
        options.pass = "p"
        options.echo = false
        var out: [UInt8] = []
        options.encode(into: &out)
        let line = text(out)
        #expect(line.hasPrefix("CONNECT {"))
        #expect(line.hasSuffix("}\r\n"))
        let json = try JSONSerialization.jsonObject(with: Data(out.dropFirst(8).dropLast(2))) as? [String: Any]
        #expect(json?["verbose"] as? Bool == false)
        #expect(json?["pedantic"] as? Bool == false)
        #expect(json?["echo"] as? Bool == false)
        #expect(json?["headers"] as? Bool == true)
        #expect(json?["no_responders"] as? Bool == true)
        #expect(json?["protocol"] as? Int == 1)
        #expect(json?["lang"] as? String == "swift")
        #expect(json?["name"] as? String == "svc")
        #expect(json?["user"] as? String == "u")
        #expect(json?["pass"] as? String == "p")
        #expect(json?["auth_token"] == nil)
    }

    /// Frames up to 512 payload bytes are assembled whole, larger ones in parts: the bytes are
    /// the same on both sides of the boundary, appended after what the buffer already holds.
    @Test func publishIsByteExactOnBothSidesOfTheWholeFrameLimit() {
        for size in [511, 512, 513, 4096] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var out: [UInt8] = Array("PING\r\n".utf8)
            payload.withUnsafeBytes { NATSEncoder.appendPublish(subject: "orders.eu", replyTo: "_INBOX.abc.7", payload: $0, into: &out) }
            let expected = Array("PING\r\nPUB orders.eu _INBOX.abc.7 \(size)\r\n".utf8) + payload + [13, 10]
            #expect(out == expected, "payload of \(size) bytes")
        }
    }

    @Test func publishFrameSizeIsAnUpperBound() {
        for size in [0, 1, 9, 10, 99, 100, 65535, 1_000_000] {
            let payload = [UInt8](repeating: 1, count: size)
            var out: [UInt8] = []
            payload.withUnsafeBytes { NATSEncoder.appendPublish(subject: "s.t", replyTo: "r", payload: $0, into: &out) }
            #expect(out.count <= NATSEncoder.publishFrameSize(subject: "s.t", replyTo: "r", headerBytes: 0, payloadBytes: size))
        }
    }
}

@Suite("NATS headers and name validation")
struct NATSHeadersValidationTests {
    @Test func headersRoundTrip() throws {
        var headers = NATSHeaders()
        headers.append("v1", for: "K")
        headers.append("v2", for: "K")
        headers["Other"] = "x y"
        let block = headers.encoded
        let parsed = try block.withUnsafeBytes { raw in try NATSHeaders.parse(raw) }
        #expect(parsed == headers)
        #expect(parsed.values(for: "K") == ["v1", "v2"])
        #expect(parsed["Other"] == "x y")
    }

    @Test func headerProblems() {
        #expect(NATSHeaders([("Bad Name", "v")]).problem() != nil)
        #expect(NATSHeaders([("K", "line\r\nbreak")]).problem() != nil)
        #expect(NATSHeaders([("", "v")]).problem() != nil)
        #expect(NATSHeaders([("Good-Name", "any value: with colon")]).problem() == nil)
    }

    @Test func subjects() {
        #expect(NATSValidation.subjectProblem("") == .empty)
        #expect(NATSValidation.subjectProblem("a b") == .whitespace(offset: 1))
        #expect(NATSValidation.subjectProblem("a\tb") == .whitespace(offset: 1))
        #expect(NATSValidation.subjectProblem(".a") == .emptyToken)
        #expect(NATSValidation.subjectProblem("a.") == .emptyToken)
        #expect(NATSValidation.subjectProblem("a..b") == .emptyToken)
        #expect(NATSValidation.subjectProblem("orders.created.eu") == nil)
        #expect(NATSValidation.subjectProblem("a.*.>", forSubscription: true) == nil)
        #expect(NATSValidation.subjectProblem(">", forSubscription: true) == nil)
        #expect(NATSValidation.subjectProblem("a.>.b", forSubscription: true) == .misplacedWildcard)
        #expect(NATSValidation.subjectProblem("a.b*", forSubscription: true) == .misplacedWildcard)
        #expect(NATSValidation.subjectProblem("a.*b", forSubscription: true) == .misplacedWildcard)
        #expect(NATSValidation.subjectProblem("a.b>", forSubscription: true) == .misplacedWildcard)
        #expect(NATSValidation.subjectProblem("a.b*") == nil, "a publish subject may hold wildcard characters")
        #expect(NATSValidation.subjectProblem("orders.\r") == .whitespace(offset: 7))
        #expect(NATSValidation.subjectProblem("orders\n") == .whitespace(offset: 6))
        #expect(NATSValidation.subjectProblem("commandes.créées.€") == nil)
        #expect(NATSValidation.subjectProblem("$JS.ACK.ORDERS.worker.1.42.17.1733600000000000000.0") == nil)
        #expect(NATSValidation.subjectProblem("a.b\u{01}c") == nil, "control characters other than whitespace pass, as before")
        #expect(NATSValidation.subjectProblem(String("x.orders.created".dropFirst(2))) == nil)
        #expect(NATSValidation.queueProblem("") == .empty)
        #expect(NATSValidation.queueProblem("q 1") == .whitespace(offset: 1))
        #expect(NATSValidation.queueProblem("workers") == nil)
    }
}

@Suite("NATS handshake state machine")
struct NATSHandshakeTests {
    func info(_ json: String) throws -> NATSServerInfo {
        try Array(json.utf8).withUnsafeBytes { try NATSServerInfo.decode(json: $0, offset: 0) }
    }

    @Test func infoThenPongCompletes() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions())
        let serverInfo = try info(#"{"server_id":"S","headers":true,"max_payload":1024}"#)
        guard case .write(let bytes) = machine.received(.info(serverInfo)) else { Issue.record("expected write"); return }
        let sent = String(decoding: bytes, as: UTF8.self)
        #expect(sent.hasPrefix("CONNECT {"))
        #expect(sent.hasSuffix("}\r\nPING\r\n"))
        #expect(machine.received(.ping) == .write(Array("PONG\r\n".utf8)))
        #expect(machine.received(.pong) == .completed(serverInfo))
        #expect(machine.state == .completed(serverInfo))
    }

    @Test func serverWithoutHeadersGetsNoHeadersInConnect() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions())
        guard case .write(let bytes) = machine.received(.info(try info(#"{"headers":false}"#))) else { Issue.record("expected write"); return }
        let sent = String(decoding: bytes, as: UTF8.self)
        #expect(sent.contains(#""headers":false"#))
        #expect(sent.contains(#""no_responders":false"#))
    }

    @Test func authorizationViolationFails() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions())
        _ = machine.received(.info(try info("{}")))
        #expect(machine.received(.err("Authorization Violation")) == .fail(.serverError("Authorization Violation")))
        #expect(machine.state == .failed)
    }

    @Test func serverRequiringTLSGetsAnUpgradeBeforeConnect() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions())
        #expect(machine.received(.info(try info(#"{"tls_required":true,"nonce":"abc"}"#))) == .startTLS)
        guard case .awaitingTLS = machine.state else {
            Issue.record("expected awaitingTLS, got \(machine.state)")
            return
        }
        guard case .write(let bytes) = machine.tlsEstablished() else {
            Issue.record("expected CONNECT after the TLS handshake")
            return
        }
        let sent = String(decoding: bytes, as: UTF8.self)
        #expect(sent.hasPrefix("CONNECT "))
        #expect(sent.contains(#""tls_required":true"#))
        #expect(sent.hasSuffix("PING\r\n"))
    }

    @Test func clientWantingTLSUpgradesWhenTheServerOffersIt() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions(), wantsTLS: true)
        #expect(machine.received(.info(try info(#"{"tls_available":true}"#))) == .startTLS)
        var plain = NATSHandshake(connectOptions: NATSConnectOptions(), wantsTLS: true)
        #expect(plain.received(.info(try info("{}"))) == .fail(.tlsUnavailable))
        #expect(plain.state == .failed)
    }

    @Test func tlsFirstSendsConnectRightAfterInfo() throws {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions(), usesTLS: true)
        guard case .write(let bytes) = machine.received(.info(try info(#"{"tls_required":true}"#))) else {
            Issue.record("expected CONNECT right after INFO on an encrypted stream")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""tls_required":true"#))
    }

    @Test func messageBeforeHandshakeIsAProtocolError() {
        var machine = NATSHandshake(connectOptions: NATSConnectOptions())
        guard case .fail(.unexpected(let error)) = machine.received(.msg(NATSMessage(subject: "x", payload: []))) else {
            Issue.record("expected unexpected-frame failure")
            return
        }
        #expect(error.code == .unexpectedFrame)
    }

    @Test func serverErrorsAreClassified() {
        #expect(NATSServerErrorTable.classify("Authorization Violation").kind == .authorizationViolation)
        #expect(NATSServerErrorTable.classify("'Authorization Violation'").kind == .authorizationViolation)
        let permission = NATSServerErrorTable.classify("Permissions Violation for Publish to \"secret\"")
        #expect(permission.kind == .permissionsViolation)
        #expect(!permission.closesConnection)
        #expect(NATSServerErrorTable.classify("Maximum Payload Violation").closesConnection)
        let unknown = NATSServerErrorTable.classify("Something New")
        #expect(unknown.kind == .unknown)
        #expect(unknown.closesConnection)
    }
}
