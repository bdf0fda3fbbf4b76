// Messages, headers and server info are protocol-module types; users of the client see them
// without a second import.
@_exported import struct TributaryNATSProtocol.NATSMessage
@_exported import struct TributaryNATSProtocol.NATSHeaders
@_exported import struct TributaryNATSProtocol.NATSServerInfo
@_exported import struct TributaryNATSProtocol.NATSProtocolError
@_exported import struct TributaryNATSProtocol.NATSError
@_exported import enum TributaryNATSProtocol.NATSEvent
@_exported import struct TributaryNATSProtocol.NATSServerAddress
// NKEY and JWT credentials: key pairs, creds-file parsing and JWT claims for users who build
// credentials themselves (for example in a signing callback).
@_exported import enum TributaryNATSProtocol.NATSNKeyType
@_exported import enum TributaryNATSProtocol.NATSNKey
@_exported import struct TributaryNATSProtocol.NATSNKeyPair
@_exported import enum TributaryNATSProtocol.NATSCredentialsFile
@_exported import struct TributaryNATSProtocol.NATSUserJWT
@_exported import struct TributaryNATSProtocol.NATSAuthenticationChallenge
@_exported import struct TributaryNATSProtocol.NATSAuthenticationResponse
@_exported import enum TributaryWire.FailureClass
@_exported import protocol TributaryWire.ClassifiedFailure
@_exported import struct TributaryTLS.TLSConfiguration
@_exported import enum TributaryTransport.TLSVerificationFailure
@_exported import struct TributaryTransport.TransportError
