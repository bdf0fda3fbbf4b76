import TributaryTestSupport

/// Deterministic test inputs built from a seeded generator.
enum TestData {
    /// Kafka-record-like JSON lines, `size` bytes.
    static func recordsJSON(size: Int, using rng: inout SeededRandom) -> [UInt8] {
        let events = ["click", "view", "purchase", "signup", "logout", "search"]
        let countries = ["DE", "US", "FR", "JP", "BR", "IN", "NG", "SE"]
        var out: [UInt8] = []
        out.reserveCapacity(size + 256)
        var id = 0
        while out.count < size {
            let line = "{\"id\":\(100_000 + id),\"user\":\"user_\(rng.next() % 5000)\",\"event\":\"\(events[Int(rng.next() % 6)])\","
                + "\"country\":\"\(countries[Int(rng.next() % 8)])\",\"ts\":\(1_700_000_000_000 + id * 37),"
                + "\"amount\":\(rng.next() % 50_000).\(rng.next() % 100),\"session\":\"\(String(rng.next(), radix: 16))\"}\n"
            out.append(contentsOf: line.utf8)
            id += 1
        }
        return Array(out.prefix(size))
    }

    static func random(count: Int, using rng: inout SeededRandom) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = rng.next()
            for _ in 0..<8 where index < count {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }

    /// Text, random stretches, runs and repeated patterns mixed, about `size` bytes.
    static func mixed(size: Int, using rng: inout SeededRandom) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size)
        while out.count < size {
            let length = Int(rng.next() % 40_000) + 1
            switch rng.next() % 4 {
            case 0: out += recordsJSON(size: length, using: &rng)
            case 1: out += random(count: length, using: &rng)
            case 2: out += [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: length)
            default:
                let pattern = random(count: Int(rng.next() % 7) + 2, using: &rng)
                for index in 0..<length { out.append(pattern[index % pattern.count]) }
            }
        }
        return Array(out.prefix(size))
    }

    /// Highly repetitive: a short pattern, then a long run of one byte.
    static func repetitive(size: Int) -> [UInt8] {
        let pattern = Array("abcabcabd".utf8)
        var out = (0..<(size / 2)).map { pattern[$0 % pattern.count] }
        out += [UInt8](repeating: 0x41, count: size - out.count)
        return out
    }
}

import TributaryCompression

extension CompressionCodec {
    /// Decompresses an array into `output` (test convenience keeping the typed error).
    func decompress(_ input: [UInt8], into output: inout [UInt8], limit: Int) throws(CompressionError) {
        try input.withUnsafeBufferPointer { (buffer) throws(CompressionError) in
            try decompress(UnsafeRawBufferPointer(buffer), into: &output, limit: limit)
        }
    }
}
