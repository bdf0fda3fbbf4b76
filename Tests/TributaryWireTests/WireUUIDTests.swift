import Testing
import TributaryWire

@Suite("WireUUID")
struct WireUUIDTests {
    @Test("bytes, halves and the text form agree")
    func forms() throws {
        let bytes = hexBytes("12 3e 45 67 e8 9b 12 d3 a4 56 42 66 14 17 40 00")
        let uuid = try #require(WireUUID(bytes: bytes))
        #expect(uuid.high == 0x123E_4567_E89B_12D3)
        #expect(uuid.low == 0xA456_4266_1417_4000)
        #expect(uuid.bytes == bytes)
        #expect(uuid.description == "123e4567-e89b-12d3-a456-426614174000")
        #expect(WireUUID(bytes: bytes.dropLast()) == nil)
        #expect(WireUUID.zero.description == "00000000-0000-0000-0000-000000000000")
    }

    @Test("UUIDs travel as 16 raw bytes")
    func wire() throws {
        let uuid = WireUUID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        let bytes = try written { $0.writeUUID(uuid) }
        #expect(bytes == Array(1...16))
        var reader = ByteReader(bytes)
        #expect(try reader.readUUID() == uuid)
        let error = decodingError(Array(bytes.prefix(15))) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readUUID("topicID") }
        #expect(error?.code == .truncated)
        #expect(error?.expected == "uuid topicID")
    }
}
