import Testing
import TributaryTestSupport
import TributaryWire

/// Varints and zigzag encoding. Expected bytes are the vectors of Apache Kafka's own
/// `clients/src/test/java/org/apache/kafka/common/utils/ByteUtilsTest.java`
/// (testUnsignedVarintSerde, testVarintSerde, testVarlongSerde), apache/kafka commit 1eb76443.
@Suite("Varints")
struct VarintTests {
    static let unsignedVarints: [(Int32, String)] = [
        (0, "00"), (-1, "FF FF FF FF 0F"), (1, "01"), (63, "3F"), (-64, "C0 FF FF FF 0F"), (64, "40"),
        (8191, "FF 3F"), (-8192, "80 C0 FF FF 0F"), (8192, "80 40"), (-8193, "FF BF FF FF 0F"),
        (1_048_575, "FF FF 3F"), (1_048_576, "80 80 40"), (Int32.max, "FF FF FF FF 07"), (Int32.min, "80 80 80 80 08"),
    ]

    static let varints: [(Int32, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (63, "7E"), (-64, "7F"), (64, "80 01"), (-65, "81 01"),
        (8191, "FE 7F"), (-8192, "FF 7F"), (8192, "80 80 01"), (-8193, "81 80 01"),
        (1_048_575, "FE FF 7F"), (-1_048_576, "FF FF 7F"), (1_048_576, "80 80 80 01"), (-1_048_577, "81 80 80 01"),
        (134_217_727, "FE FF FF 7F"), (-134_217_728, "FF FF FF 7F"), (134_217_728, "80 80 80 80 01"),
        (-134_217_729, "81 80 80 80 01"), (Int32.max, "FE FF FF FF 0F"), (Int32.min, "FF FF FF FF 0F"),
    ]

    static let varlongs: [(Int64, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (63, "7E"), (-64, "7F"), (64, "80 01"), (-65, "81 01"),
        (8191, "FE 7F"), (-8192, "FF 7F"), (8192, "80 80 01"), (-8193, "81 80 01"),
        (Int64(Int32.max), "FE FF FF FF 0F"), (Int64(Int32.min), "FF FF FF FF 0F"),
        (17_179_869_183, "FE FF FF FF 7F"), (-17_179_869_184, "FF FF FF FF 7F"),
        (17_179_869_184, "80 80 80 80 80 01"), (-17_179_869_185, "81 80 80 80 80 01"),
        (2_199_023_255_551, "FE FF FF FF FF 7F"), (-2_199_023_255_552, "FF FF FF FF FF 7F"),
        (281_474_976_710_656, "80 80 80 80 80 80 80 01"), (-281_474_976_710_657, "81 80 80 80 80 80 80 01"),
        (36_028_797_018_963_968, "80 80 80 80 80 80 80 80 01"), (-36_028_797_018_963_969, "81 80 80 80 80 80 80 80 01"),
        (4_611_686_018_427_387_903, "FE FF FF FF FF FF FF FF 7F"), (-4_611_686_018_427_387_904, "FF FF FF FF FF FF FF FF 7F"),
        (4_611_686_018_427_387_904, "80 80 80 80 80 80 80 80 80 01"), (-4_611_686_018_427_387_905, "81 80 80 80 80 80 80 80 80 01"),
        (Int64.max, "FE FF FF FF FF FF FF FF FF 01"), (Int64.min, "FF FF FF FF FF FF FF FF FF 01"),
    ]

    @Test("unsigned varints match Kafka's vectors both ways", arguments: unsignedVarints)
    func unsignedVarint(value: Int32, hex: String) throws {
        let expected = hexBytes(hex)
        #expect(try written { $0.writeUnsignedVarint(UInt32(bitPattern: value)) } == expected)
        var reader = ByteReader(expected)
        #expect(try reader.readUnsignedVarint() == UInt32(bitPattern: value))
        #expect(reader.isAtEnd)
    }

    @Test("zigzag varints match Kafka's vectors both ways", arguments: varints)
    func varint(value: Int32, hex: String) throws {
        let expected = hexBytes(hex)
        #expect(try written { $0.writeVarint(value) } == expected)
        var reader = ByteReader(expected)
        #expect(try reader.readVarint() == value)
        #expect(reader.isAtEnd)
    }

    @Test("zigzag varlongs match Kafka's vectors both ways", arguments: varlongs)
    func varlong(value: Int64, hex: String) throws {
        let expected = hexBytes(hex)
        #expect(try written { $0.writeVarlong(value) } == expected)
        var reader = ByteReader(expected)
        #expect(try reader.readVarlong() == value)
        #expect(reader.isAtEnd)
    }

    @Test("the largest values take exactly 5 and 10 bytes")
    func maximumLengths() throws {
        #expect(try written { $0.writeUnsignedVarint(.max) } == hexBytes("FF FF FF FF 0F"))
        #expect(try written { $0.writeUnsignedVarlong(.max) } == hexBytes("FF FF FF FF FF FF FF FF FF 01"))
        #expect(try written { $0.writeVarint(.min) }.count == 5)
        #expect(try written { $0.writeVarlong(.min) }.count == 10)
        var reader = ByteReader(hexBytes("FF FF FF FF FF FF FF FF FF 01"))
        #expect(try reader.readUnsignedVarlong() == .max)
    }

    @Test("a sixth varint byte or an eleventh varlong byte is rejected (Kafka's testInvalidVarint/Varlong)")
    func overlong() {
        let varint = decodingError(hexBytes("FF FF FF FF FF 01")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readVarint() }
        #expect(varint?.code == .malformedVarint)
        #expect(varint?.offset == 0)
        let unsigned = decodingError(hexBytes("80 80 80 80 80 00")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readUnsignedVarint() }
        #expect(unsigned?.code == .malformedVarint)
        let varlong = decodingError(hexBytes("FF FF FF FF FF FF FF FF FF FF 01")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readVarlong() }
        #expect(varlong?.code == .malformedVarint)
    }

    @Test("bits beyond the type's width in the last byte are rejected")
    func overflowingLastByte() {
        // 0x10 in the fifth byte would be bit 32.
        let varint = decodingError(hexBytes("FF FF FF FF 10")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readUnsignedVarint() }
        #expect(varint?.code == .malformedVarint)
        // 0x02 in the tenth byte would be bit 64.
        let varlong = decodingError(hexBytes("FF FF FF FF FF FF FF FF FF 02")) { (reader: inout ByteReader) throws(WireDecodingError) in try reader.readUnsignedVarlong() }
        #expect(varlong?.code == .malformedVarint)
    }

    @Test("non-minimal encodings within the length limit are accepted, as the Java client does")
    func nonMinimal() throws {
        var reader = ByteReader(hexBytes("80 80 00 81 00"))
        #expect(try reader.readUnsignedVarint() == 0)
        #expect(try reader.readUnsignedVarint() == 1)
        #expect(reader.isAtEnd)
    }

    @Test("a varint cut short at any byte is reported as truncated at its start")
    func truncated() {
        for (_, hex) in Self.varlongs {
            let bytes = hexBytes(hex)
            for cut in 0..<bytes.count {
                let prefix = [0x2A] + Array(bytes.prefix(cut))
                let error = decodingError(prefix) { (reader: inout ByteReader) throws(WireDecodingError) in
                    _ = try reader.readUInt8()
                    return try reader.readVarlong()
                }
                #expect(error?.code == .truncated, "\(hex) cut at \(cut)")
                #expect(error?.offset == 1)
            }
        }
    }

    @Test("random values round-trip through every varint form")
    func randomRoundTrip() throws {
        var random = SeededRandom()
        var writer = ByteWriter()
        var values: [(Int32, Int64, UInt32, UInt64)] = []
        for _ in 0..<2000 {
            let shift = Int.random(in: 0..<64, using: &random)
            let wide = Int64(bitPattern: random.next() >> UInt64(shift))
            let entry = (Int32(truncatingIfNeeded: wide), wide, UInt32(truncatingIfNeeded: wide), UInt64(bitPattern: wide))
            values.append(entry)
            writer.writeVarint(entry.0)
            writer.writeVarlong(entry.1)
            writer.writeUnsignedVarint(entry.2)
            writer.writeUnsignedVarlong(entry.3)
        }
        var reader = ByteReader(writer.bytes)
        for entry in values {
            #expect(try reader.readVarint() == entry.0, "seed \(random.seed)")
            #expect(try reader.readVarlong() == entry.1, "seed \(random.seed)")
            #expect(try reader.readUnsignedVarint() == entry.2, "seed \(random.seed)")
            #expect(try reader.readUnsignedVarlong() == entry.3, "seed \(random.seed)")
        }
        #expect(reader.isAtEnd)
    }
}
