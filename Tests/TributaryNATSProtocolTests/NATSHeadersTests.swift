import Foundation
import Testing
import TributaryNATSProtocol

/// Bytes of a fuzz fixture under `Tests/Fixtures/fuzz` (see its README), found upward from this file.
func fuzzFixture(_ name: String, from file: String = #filePath) throws -> [UInt8] {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("Fixtures/fuzz").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: candidate.path) {
            return [UInt8](try Data(contentsOf: candidate))
        }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/fuzz/" + name])
}

private func parse(_ bytes: [UInt8]) throws -> NATSHeaders {
    try bytes.withUnsafeBytes { (raw) throws(NATSProtocolError) in try NATSHeaders.parse(raw) }
}

@Suite("NATS headers: wire size and encode/parse round trip")
struct NATSHeadersTests {
    @Test("a status line without a description is counted as the bytes it encodes to (fuzz fixture)")
    func statusWithoutDescription() throws {
        let bytes = try fuzzFixture("nats-headers/status-without-description")
        let headers = try parse(bytes)
        #expect(headers.status == 503)
        #expect(headers.statusDescription == nil)
        #expect(headers.encoded == bytes)
        #expect(headers.wireSize == bytes.count)
    }

    @Test("wireSize is the encoded size for every shape of version line", arguments: [
        "NATS/1.0\r\n\r\n",
        "NATS/1.0 503\r\n\r\n",
        "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n",
        "NATS/1.0\r\nA: b\r\nA: c\r\nEmpty: \r\n\r\n",
    ])
    func wireSize(block: String) throws {
        let headers = try parse(Array(block.utf8))
        #expect(headers.encoded == Array(block.utf8))
        #expect(headers.wireSize == block.utf8.count)
    }

    @Test("a status below 100 is written with three digits, so it parses back")
    func shortStatusKeepsThreeDigits() throws {
        let headers = try parse(Array("NATS/1.0 012 Low\r\nA: b\r\n\r\n".utf8))
        #expect(headers.status == 12)
        #expect(headers.encoded == Array("NATS/1.0 012 Low\r\nA: b\r\n\r\n".utf8))
        #expect(try parse(headers.encoded) == headers)
        #expect(headers.wireSize == headers.encoded.count)
    }

    @Test("a status that is not three digits is a badHeaders error")
    func badStatus() {
        #expect(throws: NATSProtocolError.self) { try parse(Array("NATS/1.0 50\r\n\r\n".utf8)) }
        do {
            _ = try parse(Array("NATS/1.0 5034\r\n\r\n".utf8))
            Issue.record("a 4-digit status parsed")
        } catch {
            #expect((error as? NATSProtocolError)?.code == .badHeaders)
        }
    }
}
