import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// The highest VmHWM (peak resident set, KiB) seen in /proc/<pid>/status while the child runs.
/// VmHWM only grows, so the last sample before exit is the peak up to then; memory in a put or
/// get is flat after the first chunks, so sampling every 10 ms misses nothing that matters.
func sampledPeakRSSKB(of process: ChildProcess) async -> Int {
    let path = "/proc/\(process.process.processIdentifier)/status"
    var peak = 0
    while process.process.isRunning {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let value = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
            peak = max(peak, value)
        }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return peak
}

/// nats-obj run as a user would run it, against the shared server.
@Suite("nats-obj end to end")
struct ObjectToolEndToEndTests {
    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess(try toolPath("nats-obj"), ["-s", try BrokerEnvironment.natsURL()] + arguments)
        try process.start()
        return await process.finish(timeout: timeout)
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("objtool-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func everySubcommand() async throws {
        let bucket = "TOOL_\(UInt32.random(in: 0...UInt32.max))"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = interopObjectBytes(3 * ObjectStore.defaultChunkSize + 99, seed: 8)
        let source = dir.appendingPathComponent("source.bin")
        try Data(data).write(to: source)

        let add = try await run(["add", bucket, "--description", "tool test", "--max-bucket-size", "100MB"])
        #expect(add.status == 0 && add.stderr.contains("Object store \(bucket) was created"), "\(add.stderr)")
        #expect(add.stdout.contains("Description: tool test"), "\(add.stdout)")

        let put = try await run(["put", bucket, source.path, "--name", "docs/source.bin", "-H", "Content-Type:application/x-test"])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.stderr.contains("Stored docs/source.bin in bucket \(bucket): \(data.count) bytes in 4 chunk(s)"), "\(put.stderr)")
        #expect(!put.stderr.contains("\r") && !put.stderr.contains("iB/s"), "no progress line when stderr is not a terminal: \(put.stderr)")
        #expect(put.stdout.contains("Digest: \(ObjectDigest(of: data).text)"), "\(put.stdout)")

        let list = try await run(["ls", bucket])
        #expect(list.status == 0 && list.stdout.contains("docs/source.bin") && list.stdout.contains("384.1 KiB"), "\(list.stdout)")
        let buckets = try await run(["ls"])
        #expect(buckets.stdout.split(separator: "\n").contains(Substring(bucket)), "\(buckets.stdout)")
        let info = try await run(["info", bucket, "docs/source.bin"])
        #expect(info.status == 0 && info.stdout.contains("Chunks: 4") && info.stdout.contains("Header Content-Type: application/x-test"), "\(info.stdout)")
        let status = try await run(["status", bucket])
        #expect(status.status == 0 && status.stdout.contains("Bucket: \(bucket)") && status.stdout.contains("Max size: 100.0 MiB"), "\(status.stdout)")

        let target = dir.appendingPathComponent("out.bin").path
        let get = try await run(["get", bucket, "docs/source.bin", "-O", target])
        #expect(get.status == 0 && get.stderr.contains("digest checked"), "\(get.stderr)")
        #expect(!get.stderr.contains("\r"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(data))
        let refuse = try await run(["get", bucket, "docs/source.bin", "-O", target])
        #expect(refuse.status == 1 && refuse.stderr.contains("add -f"), "\(refuse.stderr)")
        let missing = try await run(["get", bucket, "nothing", "-O", dir.appendingPathComponent("n").path])
        #expect(missing.status == 1 && missing.stderr.contains("not found"), "\(missing.stderr)")

        // watch prints the current records, then the changes.
        let watcher = ChildProcess(try toolPath("nats-obj"), ["-s", try BrokerEnvironment.natsURL(), "watch", bucket])
        try watcher.start()
        try await watcher.waitForStderr(containing: "Watching bucket \(bucket)")
        let second = try await run(["put", bucket, source.path, "--name", "again"])
        #expect(second.status == 0, "\(second.stderr)")
        let remove = try await run(["rm", bucket, "again", "-f"])
        #expect(remove.status == 0 && remove.stderr.contains("Deleted again"), "\(remove.stderr)")
        try await Task.sleep(for: .milliseconds(500))
        watcher.process.signal(SIGINT)
        let watched = await watcher.finish(timeout: .seconds(10))
        let lines = watched.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(watched.stdout)")
        #expect(lines.first?.contains("PUT 384.1 KiB \(bucket) > docs/source.bin") == true, "\(watched.stdout)")
        #expect(lines.dropFirst().first?.contains("> again") == true && lines.last?.contains("DEL \(bucket) > again") == true, "\(watched.stdout)")

        let seal = try await run(["seal", bucket, "-f"])
        #expect(seal.status == 0, "\(seal.stderr)")
        let sealedPut = try await run(["put", bucket, source.path, "--name", "late"])
        #expect(sealedPut.status == 1, "\(sealedPut.stderr)")
        let drop = try await run(["rm", bucket, "-f"])
        #expect(drop.status == 0 && drop.stderr.contains("Object store \(bucket) was deleted"), "\(drop.stderr)")
        let gone = try await run(["status", bucket])
        #expect(gone.status == 1 && gone.stderr.contains("does not exist"), "\(gone.stderr)")
    }

    /// A 200 MiB object goes through nats-obj put and get with the tool's peak RSS under 64 MiB:
    /// the data is never held whole, only one chunk plus the publish or pull window.
    @Test func twoHundredMebibytesStayUnder64MebibytesOfRSS() async throws {
        let bucket = "TOOLMEM_\(UInt32.random(in: 0...UInt32.max))"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = 200 * 1024 * 1024
        let source = dir.appendingPathComponent("big.bin")
        #expect(FileManager.default.createFile(atPath: source.path, contents: nil))
        let handle = try FileHandle(forWritingTo: source)
        let block = interopObjectBytes(1024 * 1024, seed: 77)
        for index in 0..<200 {
            var piece = block
            piece[0] = UInt8(truncatingIfNeeded: index)
            try handle.write(contentsOf: Data(piece))
        }
        try handle.close()

        let add = try await run(["add", bucket])
        #expect(add.status == 0, "\(add.stderr)")
        let url = try BrokerEnvironment.natsURL()
        let put = ChildProcess(try toolPath("nats-obj"), ["-s", url, "put", bucket, source.path, "--name", "big"])
        try put.start()
        let putPeak = await sampledPeakRSSKB(of: put)
        let putResult = await put.finish(timeout: .seconds(600))
        #expect(putResult.status == 0, "\(putResult.stderr)")
        #expect(putResult.stdout.contains("Chunks: 1600"), "\(putResult.stdout)")

        let target = dir.appendingPathComponent("back.bin").path
        let get = ChildProcess(try toolPath("nats-obj"), ["-s", url, "get", bucket, "big", "-O", target])
        try get.start()
        let getPeak = await sampledPeakRSSKB(of: get)
        let getResult = await get.finish(timeout: .seconds(600))
        #expect(getResult.status == 0, "\(getResult.stderr)")
        #expect(getResult.stderr.contains("Wrote \(size) bytes of big"), "\(getResult.stderr)")
        // Compare the files a mebibyte at a time (the get already checked the digest).
        let left = try FileHandle(forReadingFrom: source)
        let right = try FileHandle(forReadingFrom: URL(fileURLWithPath: target))
        var compared = 0
        while true {
            let a = try left.read(upToCount: 1 << 20) ?? Data()
            let b = try right.read(upToCount: 1 << 20) ?? Data()
            #expect(a == b, "files differ near byte \(compared)")
            if a.isEmpty || a != b { break }
            compared += a.count
        }
        #expect(compared == size)
        try left.close()
        try right.close()

        print("nats-obj 200 MiB: put peak RSS \(putPeak) KiB, get peak RSS \(getPeak) KiB")
        #expect(putPeak > 0 && getPeak > 0, "VmHWM was sampled")
        #expect(putPeak < 64 * 1024, "put peak RSS \(putPeak) KiB")
        #expect(getPeak < 64 * 1024, "get peak RSS \(getPeak) KiB")
        _ = try await run(["rm", bucket, "-f"])
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`), put and get draw a progress line.
    @Test func progressLineOnATerminal() async throws {
        let bucket = "TOOLPTY_\(UInt32.random(in: 0...UInt32.max))"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("in.bin")
        try Data(interopObjectBytes(4 * 1024 * 1024, seed: 12)).write(to: source)
        #expect(try await run(["add", bucket]).status == 0)
        let tool = try toolPath("nats-obj")
        let url = try BrokerEnvironment.natsURL()
        for arguments in [["put", bucket, source.path, "--name", "p"], ["get", bucket, "p", "-O", dir.appendingPathComponent("out.bin").path]] {
            let line = ([tool, "-s", url] + arguments).map { "'\($0)'" }.joined(separator: " ") + " >/dev/null"
            let pty = ChildProcess("/usr/bin/script", ["-qec", line, "/dev/null"])
            try pty.start()
            let result = await pty.finish(timeout: .seconds(120))
            #expect(result.status == 0, "\(arguments[0]): \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("4.0 MiB / 4.0 MiB (100%)"), "\(arguments[0]) progress: \(result.stdout)")
            #expect(result.stdout.contains("\r\u{1B}[K") && result.stdout.contains("MiB/s"), "\(arguments[0]): \(result.stdout)")
        }
        #expect(try await run(["rm", bucket, "-f"]).status == 0)
    }

}
