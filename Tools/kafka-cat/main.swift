// kafka-cat: kcat's -L, -P, -C and -G on the Tributary Kafka client. Parsing and formatting live in
// KafkaCatCore (KafkaCatCommand, KafkaCatFormat, KafkaCatJSON, KafkaCatMetadataListing); the
// files here drive the client.
import Foundation
import KafkaCatCore
import ToolSupport
import TributaryKafka

let tool = Tool(name: KafkaCatCommand.spec.name)

let command: KafkaCatCommand = {
    do throws(UsageError) {
        guard let command = try KafkaCatCommand.parse(Array(CommandLine.arguments.dropFirst()),
                                                      environment: ProcessInfo.processInfo.environment) else {
            StandardStreams.writeOutput(Array(KafkaCatCommand.spec.helpText.utf8))
            exit(ToolExitCode.success.rawValue)
        }
        return command
    } catch {
        tool.fail("error: \(error.message) (see 'kafka-cat --help')", exitCode: .usage)
    }
}()

if command.showsVersion {
    StandardStreams.writeOutput(Array(KafkaCatCommand.versionText.utf8))
    exit(ToolExitCode.success.rawValue)
}
switch command.propertyAction {
case .list?:
    StandardStreams.writeOutput(Array(KafkaCatProperties.listing.utf8))
    exit(ToolExitCode.success.rawValue)
case .dump?:
    var dump = command.properties.dump
    if !command.brokers.isEmpty { dump = "# Brokers\nbootstrap.servers = " + command.brokers.map(\.description).joined(separator: ",") + "\n\n" + dump }
    StandardStreams.writeOutput(Array(dump.utf8))
    exit(ToolExitCode.success.rawValue)
case nil:
    break
}

await tool.run {
    let session = KafkaCatSession(command: command, tool: tool)
    do throws(KafkaError) {
        let client = try await session.connect()
        defer { client.close() }
        switch command.mode {
        case .list: try await MetadataLister(session: session, client: client).run()
        case .produce: try await StdinProducer(session: session, client: client).run()
        case .consume: try await TopicConsumer(session: session, client: client).run()
        case .group: try await GroupMember(session: session, client: client).run()
        case .query: try await OffsetQuery(session: session, client: client).run()
        }
        return .success
    } catch {
        session.fail(error)
    }
}
