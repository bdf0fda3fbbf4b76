import Testing
import ToolSupport

@Suite("nats-bench command line and CSV")
struct BenchCommandTests {
    func parse(_ arguments: [String], environment: [String: String] = [:]) throws -> BenchCommand {
        try #require(try BenchCommand.parse(arguments, environment: environment))
    }

    func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try BenchCommand.parse(arguments, environment: [:])
            return nil
        } catch {
            return error.message
        }
    }

    @Test func modesSubjectsAndDefaults() throws {
        let pub = try parse(["pub"])
        #expect(pub.subject == BenchCommand.defaultSubject && pub.messages == 1_000_000 && pub.size == 16 && pub.clients == 1 && pub.progress)
        #expect(try parse(["pub", "orders.bench"]).subject == "orders.bench")
        #expect(try parse(["pub", "--subject", "legacy"]).subject == "legacy")
        #expect(try parse(["req"]).messages == 20_000)
        #expect(try parse(["jspub"]).messages == 10_000)
        #expect(try parse(["jspub", "--async"]).messages == 100_000)
        #expect(try parse(["jsfetch", "--batch", "40", "--storage", "file"]).fileStorage)
        #expect(try parse(["pub", "--msgs=5", "-n", "7"]).messages == 7)
        #expect(usageError(["bogus"])?.hasPrefix("unknown mode 'bogus'; use one of pub, pubsub, req") == true)
        #expect(usageError([])?.contains("missing MODE") == true)
        #expect(usageError(["pub", "a", "--subject", "b"])?.contains("once") == true)
        #expect(usageError(["req", "--async"])?.contains("jspub only") == true)
        #expect(try parse(["pubsub", "--handler"]).handler)
        #expect(try !parse(["pubsub"]).handler)
        #expect(usageError(["pub", "--handler"])?.contains("--handler applies to pubsub only") == true)
        #expect(try parse(["kv", "--main-actor"]).mainActor)
        #expect(try !parse(["kv"]).mainActor)
        #expect(usageError(["pub", "--main-actor"])?.contains("--main-actor applies to kv only") == true)
        #expect(usageError(["req", "--clients", "2"])?.contains("--clients applies to pub and pubsub") == true)
        #expect(usageError(["pub", "--storage", "disk"]) != nil)
    }

    @Test func sharedConnectionFlags() throws {
        let command = try parse(["pub", "--user", "u", "--password", "p", "--timeout", "750ms", "--name", "b", "-s", "nats://h:4"])
        let options = command.connection.natsOptions
        #expect(options.user == "u" && options.password == "p" && options.connectTimeout == .milliseconds(750) && options.name == "b")
        #expect(try parse(["pub"], environment: ["NATS_URL": "nats://env:5"]).connection.servers == "nats://env:5")
        #expect(try parse(["pub", "--clients", "4", "--sleep", "1ms", "--csv", "/tmp/x.csv", "--no-progress"]).clients == 4)
    }

    @Test func sizesTakeTheNatsCLISuffixes() throws {
        #expect(try BenchCommand.size("16") == 16)
        #expect(try BenchCommand.size("16B") == 16)
        #expect(try BenchCommand.size("1KB") == 1024)
        #expect(try BenchCommand.size("2k") == 2048)
        #expect(try BenchCommand.size("1KiB") == 1024)
        #expect(try BenchCommand.size("1MB") == 1 << 20)
        #expect(try BenchCommand.size(" 0 ") == 0)
        for bad in ["", "KB", "1.5KB", "-1", "1XB", "1GB"] {
            #expect(throws: UsageError.self, "\(bad)") { try BenchCommand.size(bad) }
        }
    }

    @Test func csvHasTheNatsCLIColumns() {
        let plain = BenchReport.csv(runID: "run", samples: [
            BenchSample(clientID: "P0", messages: 100, bytes: 1600, duration: .milliseconds(500)),
            BenchSample(clientID: "P1", messages: 50, bytes: 800, duration: .seconds(2)),
        ])
        #expect(plain == """
        #RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs
        run,P0,100,1600,200,3200.000000,0.500000
        run,P1,50,800,25,400.000000,2.000000

        """)
        let latency = BenchReport.csv(runID: "r", samples: [
            BenchSample(clientID: "R0", messages: 4, bytes: 4, duration: .seconds(1), latenciesMicroseconds: [10, 20, 30, 40]),
        ])
        let rows = latency.split(separator: "\n")
        #expect(rows[0].hasSuffix("P99.9LatencyMicroSecs,StdDevLatencyMicroSecs"))
        #expect(rows[1] == "r,R0,4,4,4,4.000000,1.000000,10.000000,25.000000,40.000000,20.000000,40.000000,40.000000,40.000000,11.180340")
        #expect(BenchReport.progressLine(mode: "pub", done: 12345, total: 1_000_000) == "pub: 12,345/1,000,000 msgs")
    }
}
