import Testing
import ToolSupport
import TributaryNATS

@Suite("Tool exit codes")
struct ToolExitCodeTests {
    @Test func eachErrorClassHasOneCode() {
        #expect(ToolExitCode.success.rawValue == 0)
        #expect(ToolExitCode.usage.rawValue == 1 && ToolExitCode.failure.rawValue == 1)
        #expect(ToolExitCode.connection.rawValue == 2)
        for code: NATSError.Code in [.connectionFailed, .authorizationViolation, .invalidCredentials, .tlsHandshakeFailed, .connectionClosed, .disconnected, .messagesLost] {
            #expect(ToolExitCode.forError(NATSError(code, "x")) == .connection, "\(code)")
        }
        for code: NATSError.Code in [.timeout, .noResponders, .invalidHeaders, .maxPayloadExceeded] {
            #expect(ToolExitCode.forError(NATSError(code, "x")) == .failure, "\(code)")
        }
    }
}
