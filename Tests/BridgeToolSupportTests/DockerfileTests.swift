import Foundation
import Testing

/// No container engine runs here, so the Dockerfile is checked for structure only: every
/// instruction is one Docker knows, continuation lines join, stages are named before use, and
/// the runtime stage starts the bridge.
@Suite("tributary-bridge Dockerfile structure")
struct DockerfileTests {
    static let instructions: Set<String> = ["FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                                            "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"]

    static func logicalLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                lines.append(current + line)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    @Test("instructions, stages and the entry point")
    func structure() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/tributary-bridge/Dockerfile")
        let lines = Self.logicalLines(try String(contentsOf: path, encoding: .utf8))
        #expect(lines.first?.hasPrefix("FROM ") == true, "a Dockerfile starts with FROM")
        var stages: [String] = []
        for line in lines {
            let instruction = String(line.prefix { !$0.isWhitespace })
            #expect(Self.instructions.contains(instruction), "unknown instruction in: \(line)")
            if instruction == "FROM" {
                let words = line.split(separator: " ")
                #expect(words.count == 4 && words[2] == "AS", "stages are named: \(line)")
                stages.append(String(words.last ?? ""))
            }
            if instruction == "COPY", let from = line.split(separator: " ").first(where: { $0.hasPrefix("--from=") }) {
                #expect(stages.dropLast().contains(String(from.dropFirst(7))), "COPY from an earlier stage: \(line)")
            }
            if instruction == "ENTRYPOINT" || instruction == "CMD" {
                let json = String(line.dropFirst(instruction.count)).trimmingCharacters(in: .whitespaces)
                #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] != nil, "exec form: \(line)")
            }
        }
        #expect(stages == ["build", "runtime"])
        #expect(lines.contains { $0.contains("swift build -c release --product tributary-bridge") })
        #expect(lines.last { $0.hasPrefix("ENTRYPOINT") }?.contains("tributary-bridge") == true)
    }
}
