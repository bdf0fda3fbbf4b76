// nats-sub SUBJECT...: print messages, like `nats sub`. Parsing and formatting live in
// ToolSupport (SubscribeCommand, MessageFormat, MessagePrinter); this file only drives the client.
import ToolSupport
import TributaryNATS

let command = Tool.parseCommandLine(SubscribeCommand.self)
let tool = Tool(name: SubscribeCommand.spec.name)

/// How one subscription's loop ended.
enum LoopEnd: Sendable {
    case limitReached
    case ended
    case failed(NATSError)
}

await tool.run {
    let client = await tool.connect(command.connection)
    tool.reportConnectionEvents(of: client)
    var subscriptions: [NATSSubscription] = []
    do throws(NATSError) {
        for subject in command.subjects {
            let subscription = try client.subscribe(to: subject, queue: command.queue)
            // Each subscription needs at most --count messages; the server stops after that.
            if let count = command.count { try subscription.unsubscribe(after: count) }
            subscriptions.append(subscription)
        }
        // Announce only once the server has the subscriptions, so a publisher started after
        // this line is seen.
        try await client.flush()
    } catch {
        tool.fail(error)
    }
    if !command.style.raw {
        tool.status(MessageFormat.subscribing(to: command.subjects, queue: command.queue))
    }

    let printer = MessagePrinter(style: command.style, limit: command.count)
    let end = await withTaskGroup(of: LoopEnd.self) { group -> LoopEnd in
        for subscription in subscriptions {
            group.addTask {
                do throws(NATSError) {
                    for try await message in subscription {
                        if printer.print(message) != .printed { return .limitReached }
                    }
                    return .ended
                } catch {
                    return .failed(error)
                }
            }
        }
        for await end in group {
            switch end {
            case .limitReached, .failed:
                group.cancelAll()
                return end
            case .ended:
                continue
            }
        }
        return .ended
    }

    switch end {
    case .limitReached:
        await client.close()
        return .success
    case .failed(let error):
        tool.fail(error)
    case .ended:
        if Task.isCancelled {
            await client.close()
            return .success
        }
        tool.fail("the connection closed after \(printer.printedCount) messages", exitCode: .connection)
    }
}
