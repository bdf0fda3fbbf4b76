// nats-req SUBJECT [BODY]: send a request and print the reply, like `nats request`. Parsing
// and formatting live in ToolSupport (RequestCommand, MessageFormat); this file drives the client.
import ToolSupport
import TributaryNATS

let command = Tool.parseCommandLine(RequestCommand.self)
let tool = Tool(name: RequestCommand.spec.name)

/// Sends the request and prints the reply (headers and payload on stdout, rtt on stderr).
func requestAndPrint(_ client: NATSClient) async throws(NATSError) {
    if !command.raw { tool.status(command.sendingLine) }
    let clock = ContinuousClock()
    let start = clock.now
    let reply = try await client.request(Array(command.body.utf8), to: command.subject, headers: command.headers,
                                         timeout: command.connection.timeout)
    let rtt = clock.now - start
    if command.raw {
        StandardStreams.writeOutput(reply.payload + [UInt8(ascii: "\n")])
    } else {
        tool.status(RequestCommand.receivedLine(rtt: rtt))
        StandardStreams.writeOutput(MessageFormat.body(reply))
    }
}

await tool.run {
    let client = await tool.connect(command.connection)
    do throws(NATSError) {
        try await requestAndPrint(client)
    } catch {
        if !Task.isCancelled {
            let failure = command.failure(error)
            tool.fail(failure.message, exitCode: failure.exitCode)
        }
    }
    await client.close()
    return .success
}
