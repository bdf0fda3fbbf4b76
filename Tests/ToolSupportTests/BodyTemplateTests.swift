import Testing
import ToolSupport

/// A deterministic generator so `ID` and `Random` can be checked exactly for shape.
struct CountingGenerator: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("nats CLI body templates")
struct BodyTemplateTests {
    /// 2026-01-02T15:04:05.123456789Z.
    static let instant: Int64 = 1_767_366_245_123_456_789

    func render(_ text: String, count: Int = 1, offset: Int = 0, request: [UInt8]? = nil) -> String {
        var generator = CountingGenerator()
        let context = BodyTemplate.Context(unixNanoseconds: Self.instant, utcOffsetSeconds: offset, request: request)
        return String(decoding: BodyTemplate(text).render(count: count, context: context, using: &generator), as: UTF8.self)
    }

    @Test func countInEverySpelling() {
        #expect(render("n={{Count}}", count: 7) == "n=7")
        #expect(render("{{ Count }}/{{.Count}}/{{Cnt}}", count: 3) == "3/3/3")
        #expect(BodyTemplate("x {{Count}}").usesCount)
        #expect(!BodyTemplate("x").hasPlaceholders)
    }

    @Test func timeFormatsFollowGo() {
        #expect(render("{{Time}}") == "3:04PM")
        #expect(render("{{TimeStamp}}") == "2026-01-02T15:04:05Z")
        #expect(render("{{TimeStamp}}", offset: 3600) == "2026-01-02T16:04:05+01:00")
        #expect(render("{{TimeStamp}}", offset: -(5 * 3600 + 1800)) == "2026-01-02T09:34:05-05:30")
        #expect(render("{{Time}}", offset: -(15 * 3600)) == "12:04AM")
        #expect(render("{{Time}}", offset: -(3 * 3600)) == "12:04PM")
        #expect(render("{{Unix}}") == "1767366245")
        #expect(render("{{UnixNano}}") == "1767366245123456789")
        // Before 1970 and across a leap day.
        let context = BodyTemplate.Context(unixNanoseconds: 951_782_400_000_000_000)  // 2000-02-29T00:00:00Z
        #expect(String(decoding: BodyTemplate("{{TimeStamp}}").render(count: 1, context: context), as: UTF8.self) == "2000-02-29T00:00:00Z")
        let early = BodyTemplate.Context(unixNanoseconds: -1_000_000_000)
        #expect(String(decoding: BodyTemplate("{{TimeStamp}} {{Unix}}").render(count: 1, context: early), as: UTF8.self) == "1969-12-31T23:59:59Z -1")
    }

    @Test func idAndRandomHaveTheirShape() {
        let alphabet = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let id = render("{{ID}}")
        #expect(id.count == 22 && id.allSatisfy(alphabet.contains), "\(id)")
        #expect(render("{{ID}}") == id, "same generator, same id")
        #expect(BodyTemplate("{{ID}}").render(count: 1) != BodyTemplate("{{ID}}").render(count: 1))
        for _ in 0..<50 {
            let random = BodyTemplate("{{Random 3 8}}").render(count: 1)
            #expect((3...8).contains(random.count) && random.allSatisfy(alphabet.contains), "\(random)")
        }
        #expect(render("{{ Random 5 5 }}").count == 5)
        #expect(render("{{Random 9 4}}").count >= 4, "min and max swapped, as the nats CLI")
        #expect(render("{{Random 1}}") == "{{Random 1}}", "a malformed call stays as written")
    }

    @Test func requestUnknownAndBinary() {
        #expect(render("got {{Request}}", request: Array("ping".utf8)) == "got ping")
        #expect(render("got {{.Request}}") == "got {{.Request}}", "no request: left as written")
        #expect(render("{{Nope}} {{Count") == "{{Nope}} {{Count")
        let bytes: [UInt8] = [0xff, 0x00, 0x7b, 0x7b, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x7d, 0x7d, 0xfe]  // ÿ\0{{Count}}þ
        #expect(BodyTemplate(bytes: bytes).render(count: 4, context: .init(unixNanoseconds: 0)) == [0xff, 0x00, 0x34, 0xfe])
        #expect(BodyTemplate(literal: Array("{{Count}}".utf8)).render(count: 4, context: .init(unixNanoseconds: 0)) == Array("{{Count}}".utf8))
    }

    @Test func headerValuesAreTemplates() throws {
        let headers = try #require(try HeaderTemplate(arguments: ["Seq:{{Count}}", "Fixed: a"]))
        let rendered = headers.render(count: 5, context: .init(unixNanoseconds: 0))
        #expect(rendered["Seq"] == "5" && rendered["Fixed"] == "a")
        #expect(try HeaderTemplate(arguments: []) == nil)
    }
}
