import Testing
import TributaryTestSupport
import TributaryWire

@Suite("ByteReader")
struct ByteReaderTests {
    @Test("fixed-width values are read big-endian")
    func integers() throws {
        var reader = ByteReader(hexBytes("FE 0102 FFFE 01020304 A0B0C0D0 FFFFFFFFFFFFFFFE 02 00 0000000000000007"))
        #expect(try reader.readInt8() == -2)
        #expect(try reader.readInt16() == 0x0102)
        #expect(try reader.readUInt16() == 0xFFFE)
        #expect(try reader.readInt32() == 0x0102_0304)
        #expect(try reader.readUInt32() == 0xA0B0_C0D0)
        #expect(try reader.readInt64() == -2)
        #expect(try reader.readBool() == true, "any non-zero byte is true, like the Java client")
        #expect(try reader.readBool() == false)
        #expect(try reader.readUInt64() == 7)
        #expect(reader.isAtEnd)
        #expect(reader.remainingCount == 0)
    }

    @Test("strings in all four forms")
    func strings() throws {
        var reader = ByteReader(hexBytes("0003 616263 FFFF 04 616263 00 01 0002 C3A9"))
        #expect(try reader.readString() == "abc")
        #expect(try reader.readNullableString() == nil)
        #expect(try reader.readCompactString() == "abc")
        #expect(try reader.readCompactNullableString() == nil)
        #expect(try reader.readCompactNullableString() == "")
        #expect(try reader.readString() == "é")
        #expect(reader.isAtEnd)
    }

    @Test("byte sequences and arrays in all forms")
    func bytesAndArrays() throws {
        var reader = ByteReader(hexBytes("00000002 0102 FFFFFFFF 03 0102 00 00000002 00000001 00000002 03 0005 0006 FFFFFFFF"))
        #expect(try reader.readBytes() == [1, 2])
        #expect(try reader.readNullableBytes() == nil)
        #expect(try reader.readCompactBytes() == [1, 2])
        #expect(try reader.readCompactNullableBytes() == nil)
        let int32s = try reader.readArray(compact: false, minimumElementSize: 4) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt32() }
        #expect(int32s == [1, 2])
        let int16s = try reader.readArray(compact: true, minimumElementSize: 2) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt16() }
        #expect(int16s == [5, 6])
        let missing = try reader.readNullableArray(compact: false, nullable: true) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt8() }
        #expect(missing == nil)
        #expect(reader.isAtEnd)
    }

    @Test("a null marker where the field is not nullable is an error")
    func unexpectedNull() {
        #expect(decodingError(hexBytes("FFFF")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readString() }?.code == .unexpectedNull)
        #expect(decodingError(hexBytes("00")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readCompactString() }?.code == .unexpectedNull)
        #expect(decodingError(hexBytes("FFFFFFFF")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readNullableBytes(compact: false, nullable: false) }?.code == .unexpectedNull)
        #expect(decodingError(hexBytes("FFFFFFFF")) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readArray(compact: false) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt8() }
        }?.code == .unexpectedNull)
    }

    @Test("negative lengths other than -1 are invalid")
    func negativeLengths() {
        #expect(decodingError(hexBytes("FFFE 00")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readNullableString() }?.code == .invalidLength)
        #expect(decodingError(hexBytes("80000000")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readNullableBytes() }?.code == .invalidLength)
    }

    @Test("invalid UTF-8 is rejected with its offset")
    func invalidUTF8() {
        let error = decodingError(hexBytes("00 0002 C328")) { (reader: inout ByteReader) throws(WireDecodingError) in
            _ = try reader.readInt8()
            return try reader.readString(compact: false, "host")
        }
        #expect(error?.code == .invalidUTF8)
        #expect(error?.offset == 3)
        #expect(error?.excerpt == "c3 28")
    }

    @Test("absurd lengths are rejected before allocating, against the bytes left and the limits")
    func absurdLengths() {
        // Length 2147483647 with three bytes behind it.
        let bytes = decodingError(hexBytes("7FFFFFFF 010203")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readBytes() }
        #expect(bytes?.code == .limitExceeded, "above the default 100 MiB limit")
        let withinLimit = decodingError(hexBytes("00100000 010203")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readBytes() }
        #expect(withinLimit?.code == .truncated)
        #expect(withinLimit?.offset == 0)
        // Compact length 4294967294 (unsigned varint FF FF FF FF 0F).
        let compact = decodingError(hexBytes("FFFFFFFF0F 01")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readCompactBytes() }
        #expect(compact?.code == .limitExceeded)
        // An array claiming two billion elements over four bytes.
        let array = decodingError(hexBytes("77359400 00000001")) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readArray(compact: false) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt8() }
        }
        #expect(array?.code == .limitExceeded)
        // Within the count limit but each element needs 8 bytes.
        let sized = decodingError(hexBytes("00000002 0000000000000001")) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readArray(compact: false, minimumElementSize: 8) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt64() }
        }
        #expect(sized?.code == .truncated)
        #expect(sized?.offset == 0)
        // A string over the configured limit, even with the bytes present.
        let limits = ByteReader.Limits(maxStringLength: 2, maxBytesLength: 3, maxArrayCount: 1)
        #expect(decodingError(hexBytes("0003 616263"), limits: limits) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readString() }?.code == .limitExceeded)
        #expect(decodingError(hexBytes("00000004 01020304"), limits: limits) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readBytes() }?.code == .limitExceeded)
        #expect(decodingError(hexBytes("03 01 02"), limits: limits) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readArray(compact: true) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readInt8() }
        }?.code == .limitExceeded)
        // A tagged-field section claiming more fields than bytes allow.
        #expect(decodingError(hexBytes("7F 00 00")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readTaggedFields { _, _ in false } }?.code == .truncated)
    }

    /// A value of every kind, written and then read back in the same order.
    static func composite() throws -> [UInt8] {
        try written { writer in
            writer.writeInt8(1)
            writer.writeInt16(2)
            writer.writeInt32(3)
            writer.writeInt64(4)
            writer.writeUUID(WireUUID(high: 5, low: 6))
            writer.writeFloat64(7.5)
            writer.writeVarint(-300)
            writer.writeVarlong(1 << 40)
            try writer.writeString("eight")
            try writer.writeCompactNullableString("nine")
            try writer.writeBytes([10, 10])
            try writer.writeCompactBytes([11])
            try writer.writeArray(["a", "bc"], compact: true) { (writer: inout ByteWriter, value: String) throws(WireEncodingError) in try writer.writeCompactString(value) }
            try writer.writeTaggedFields([WireTaggedField(tag: 0, bytes: [12]), WireTaggedField(tag: 9, bytes: [13, 13])])
        }
    }

    static func readComposite(_ reader: inout ByteReader) throws(WireDecodingError) -> [String] {
        var values: [String] = []
        values.append("\(try reader.readInt8())")
        values.append("\(try reader.readInt16())")
        values.append("\(try reader.readInt32())")
        values.append("\(try reader.readInt64())")
        values.append("\(try reader.readUUID())")
        values.append("\(try reader.readFloat64())")
        values.append("\(try reader.readVarint())")
        values.append("\(try reader.readVarlong())")
        values.append(try reader.readString())
        values.append(try reader.readCompactNullableString() ?? "nil")
        values.append("\(try reader.readBytes())")
        values.append("\(try reader.readCompactBytes())")
        values.append("\(try reader.readArray(compact: true) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readCompactString() })")
        var known: [UInt8] = []
        let unknown = try reader.readTaggedFields("composite") { (tag: UInt32, reader: inout ByteReader) throws(WireDecodingError) -> Bool in
            guard tag == 0 else { return false }
            known.append(try reader.readUInt8())
            return true
        }
        values.append("\(known) \(unknown.map(\.tag)) \(unknown.map(\.bytes))")
        try reader.expectEnd("composite")
        return values
    }

    @Test("every kind of value round-trips")
    func compositeRoundTrip() throws {
        var reader = ByteReader(try Self.composite())
        let values = try Self.readComposite(&reader)
        #expect(values == [
            "1", "2", "3", "4", "00000000-0000-0005-0000-000000000006", "7.5", "-300", "1099511627776", "eight", "nine",
            "[10, 10]", "[11]", "[\"a\", \"bc\"]", "[12] [9] [[13, 13]]",
        ])
    }

    @Test("input cut at every offset gives a typed error, never a crash")
    func truncatedEverywhere() throws {
        let bytes = try Self.composite()
        for cut in 0..<bytes.count {
            var reader = ByteReader(Array(bytes.prefix(cut)))
            do throws(WireDecodingError) {
                _ = try Self.readComposite(&reader)
                Issue.record("cut at \(cut) of \(bytes.count) decoded")
            } catch {
                #expect(error.code == .truncated, "cut at \(cut): \(error)")
                #expect(error.offset <= cut)
            }
        }
    }

    @Test("random mutations give a value or a typed error")
    func mutations() throws {
        var random = SeededRandom()
        let bytes = try Self.composite()
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            var reader = ByteReader(mutated)
            do throws(WireDecodingError) {
                _ = try Self.readComposite(&reader)
            } catch {
                #expect(error.offset >= 0 && error.offset <= mutated.count, "seed \(random.seed)")
            }
        }
    }

    @Test("a known tagged field that is not read to its end is an error")
    func taggedFieldTrailingBytes() {
        let error = decodingError(hexBytes("01 00 02 0102")) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readTaggedFields("header") { (_: UInt32, reader: inout ByteReader) throws(WireDecodingError) -> Bool in
                _ = try reader.readUInt8()
                return true
            }
        }
        #expect(error?.code == .trailingBytes)
        #expect(error?.offset == 4)
    }

    @Test("a tag repeated in one tagged-field section is an error (it could not be written back)")
    func repeatedTag() {
        // Two fields, both tag 5, one byte each.
        let error = decodingError(hexBytes("02 05 01 AA 05 01 BB")) { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readTaggedFields("header") { (_: UInt32, _: inout ByteReader) throws(WireDecodingError) -> Bool in false }
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 4)
    }

    @Test("sub-readers and ranges read only their bytes, with offsets from the whole buffer")
    func ranges() throws {
        let bytes = hexBytes("AA 0001 BB")
        var reader = ByteReader(bytes, range: 1..<3)
        #expect(reader.offset == 1)
        #expect(try reader.readInt16() == 1)
        let error = decodingError([0xAA, 0x00]) { (reader: inout ByteReader) throws(WireDecodingError) in
            var sub = try reader.readSubReader(count: 1)
            _ = try sub.readUInt8()
            return try sub.readUInt8()
        }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 1)
        let copied = bytes.withUnsafeBytes { ByteReader(copying: $0) }
        #expect(copied.remainingCount == 4)
        #expect(Array(copied.remainingBytes) == bytes)
        #expect(throws: WireDecodingError.self) { try ByteReader([1]).expectEnd("frame") }
    }

    @Test("errors say what was expected, what arrived, where, and what to do")
    func errorDescription() {
        let error = decodingError(hexBytes("0000 0000 0A 00")) { (reader: inout ByteReader) throws(WireDecodingError) in
            _ = try reader.readInt32()
            return try reader.readString(compact: true, "host")
        }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 4)
        #expect(error?.expected == "string host of length 9")
        #expect(error?.found == "1 byte left")
        #expect(error?.excerpt == "0a 00")
        let text = error?.description ?? ""
        #expect(text.contains("byte 4") && text.contains("0a 00") && text.contains("close the connection"), "\(text)")
    }
}
