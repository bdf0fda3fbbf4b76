import Testing
import TributaryWire

/// Byte layouts written by hand from the Kafka protocol guide's primitive types
/// (https://kafka.apache.org/protocol#protocol_types).
@Suite("ByteWriter")
struct ByteWriterTests {
    @Test("fixed-width integers are big-endian")
    func integers() throws {
        let bytes = try written { writer in
            writer.writeInt8(-2)
            writer.writeInt16(0x0102)
            writer.writeInt16(-1)
            writer.writeUInt16(0xFFFE)
            writer.writeInt32(0x0102_0304)
            writer.writeUInt32(0xA0B0_C0D0)
            writer.writeInt64(-2)
            writer.writeBool(true)
            writer.writeBool(false)
        }
        #expect(bytes == hexBytes("FE 0102 FFFF FFFE 01020304 A0B0C0D0 FFFFFFFFFFFFFFFE 01 00"))
    }

    static let doubles: [(Double, UInt64)] = [
        (0.0, 0), (-0.0, 0x8000_0000_0000_0000), (1.0, 0x3FF0_0000_0000_0000), (-1.0, 0xBFF0_0000_0000_0000),
        (123e45, 0x49B5_8B82_C0E0_BB00), (Double.leastNonzeroMagnitude, 1), (Double.greatestFiniteMagnitude, 0x7FEF_FFFF_FFFF_FFFF),
        (Double.infinity, 0x7FF0_0000_0000_0000), (-Double.infinity, 0xFFF0_0000_0000_0000),
    ]

    @Test("float64 uses IEEE 754 bits, big-endian (Kafka's ByteUtilsTest.testDouble)", arguments: doubles)
    func float64(value: Double, bits: UInt64) throws {
        let bytes = try written { $0.writeFloat64(value) }
        var expected = ByteWriter()
        expected.writeUInt64(bits)
        #expect(bytes == expected.bytes)
        var reader = ByteReader(bytes)
        #expect(try reader.readFloat64().bitPattern == bits)
    }

    @Test("strings: int16 length or compact length + 1, null as -1 or 0")
    func strings() throws {
        #expect(try written { try $0.writeString("abc") } == hexBytes("0003 616263"))
        #expect(try written { try $0.writeString("") } == hexBytes("0000"))
        #expect(try written { try $0.writeNullableString(nil) } == hexBytes("FFFF"))
        #expect(try written { try $0.writeCompactString("abc") } == hexBytes("04 616263"))
        #expect(try written { try $0.writeCompactString("") } == hexBytes("01"))
        #expect(try written { try $0.writeCompactNullableString(nil) } == hexBytes("00"))
        #expect(try written { try $0.writeString("é") } == hexBytes("0002 C3A9"))
    }

    @Test("bytes: int32 length or compact length + 1, null as -1 or 0")
    func byteSequences() throws {
        #expect(try written { try $0.writeBytes([1, 2]) } == hexBytes("00000002 0102"))
        #expect(try written { try $0.writeNullableBytes(nil) } == hexBytes("FFFFFFFF"))
        #expect(try written { try $0.writeCompactBytes([1, 2]) } == hexBytes("03 0102"))
        #expect(try written { try $0.writeCompactNullableBytes(nil) } == hexBytes("00"))
        #expect(try written { try $0.writeCompactNullableBytes([]) } == hexBytes("01"))
    }

    @Test("arrays: int32 count or compact count + 1, null as -1 or 0")
    func arrays() throws {
        let values: [Int32] = [1, 2]
        let writeElement: (inout ByteWriter, Int32) throws(WireEncodingError) -> Void = { writer, value in writer.writeInt32(value) }
        #expect(try written { try $0.writeArray(values, compact: false, element: writeElement) } == hexBytes("00000002 00000001 00000002"))
        #expect(try written { try $0.writeArray(values, compact: true, element: writeElement) } == hexBytes("03 00000001 00000002"))
        #expect(try written { try $0.writeNullableArray(nil as [Int32]?, compact: false, nullable: true, element: writeElement) } == hexBytes("FFFFFFFF"))
        #expect(try written { try $0.writeNullableArray(nil as [Int32]?, compact: true, nullable: true, element: writeElement) } == hexBytes("00"))
        #expect(try written { try $0.writeArrayLength(300, compact: true) } == hexBytes("AD 02"))
    }

    @Test("nil where the version has no null marker is an error")
    func nullNotAllowed() {
        #expect(encodingError { try $0.writeNullableString(nil, compact: false, nullable: false, "name") }?.code == .nullNotAllowed)
        let error = encodingError { try $0.writeNullableBytes(nil, compact: true, nullable: false, "records") }
        #expect(error?.code == .nullNotAllowed)
        #expect(error?.field == "records")
        #expect(error?.description.contains("records") == true)
    }

    @Test("strings longer than 32767 bytes are rejected before anything is written, compact or not")
    func stringTooLong() {
        let long = String(repeating: "x", count: 32_768)
        for compact in [false, true] {
            var writer = ByteWriter(bytes: [9])
            #expect(throws: WireEncodingError.tooLong("topic", length: 32_768, maximum: 32_767)) {
                try writer.writeString(long, compact: compact, "topic")
            }
            #expect(writer.bytes == [9])
        }
        #expect(throws: Never.self) { try written { try $0.writeString(String(repeating: "x", count: 32_767)) } }
    }

    @Test("tagged fields are written in ascending tag order with sizes; duplicates are rejected")
    func taggedFields() throws {
        let fields = [WireTaggedField(tag: 300, bytes: [0xAA]), WireTaggedField(tag: 1, bytes: [1, 2, 3])]
        #expect(try written { try $0.writeTaggedFields(fields) } == hexBytes("02 01 03 010203 AC02 01 AA"))
        #expect(try written { try $0.writeTaggedFields([]) } == hexBytes("00"))
        #expect(try written { $0.writeEmptyTaggedFields() } == hexBytes("00"))
        let duplicate = [WireTaggedField(tag: 4, bytes: []), WireTaggedField(tag: 4, bytes: [1])]
        var writer = ByteWriter()
        #expect(throws: WireEncodingError.self) { try writer.writeTaggedFields(duplicate) }
        #expect(writer.bytes.isEmpty)
        let field = try WireTaggedField(tag: 7) { writer in writer.writeInt16(5) }
        #expect(field == WireTaggedField(tag: 7, bytes: [0, 5]))
    }

    @Test("size placeholders, truncation and appending to a caller's buffer")
    func bufferManagement() {
        var writer = ByteWriter(capacity: 16)
        let position = writer.reserveInt32()
        writer.writeInt16(7)
        writer.setInt32(Int32(writer.count - 4), at: position)
        #expect(writer.bytes == hexBytes("00000002 0007"))
        writer.truncate(to: 4)
        #expect(writer.bytes == hexBytes("00000002"))
        writer.truncate(to: 10)
        #expect(writer.count == 4)

        var buffer: [UInt8] = [1]
        let count = ByteWriter.appending(to: &buffer) { writer in
            writer.writeUInt8(2)
            return writer.count
        }
        #expect(count == 2)
        #expect(buffer == [1, 2])
    }
}
