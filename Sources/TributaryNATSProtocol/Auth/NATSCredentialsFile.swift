import TributaryCrypto

/// Reads the files NATS tools write: `.creds` files (a user JWT block and an NKEY seed block),
/// decorated or bare JWT files, and seed files.
///
/// A creds file, as `nsc` writes it:
/// ```
/// -----BEGIN NATS USER JWT-----
/// eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ…
/// ------END NATS USER JWT------
///
/// -----BEGIN USER NKEY SEED-----
/// SUAM…
/// ------END USER NKEY SEED------
/// ```
/// A block opens and closes with a line that starts and ends with at least three dashes.
/// Whitespace around lines, CRLF line ends and text between blocks are ignored. Everything here
/// is pure: the driver reads the bytes and wipes them afterwards. Errors say what is wrong and
/// never quote the seed or the JWT.
public enum NATSCredentialsFile {
    /// One `-----BEGIN …-----` … `-----END …-----` block.
    struct Block {
        /// The opening line without dashes, e.g. `BEGIN NATS USER JWT`.
        var label: String
        /// The content lines joined, whitespace removed.
        var content: [UInt8]
    }

    /// The user JWT and key pair of a creds file. The key pair is the caller's to wipe.
    ///
    /// - Throws: `.invalidCredentials` when a block is missing or not closed, the JWT block holds
    ///   no JWT, or the seed is malformed or not a user seed.
    public static func parseCreds(_ contents: [UInt8]) throws(NATSError) -> (jwt: String, keyPair: NATSNKeyPair) {
        var blocks = try self.blocks(in: contents)
        defer { for i in blocks.indices { SecretBytes.wipe(&blocks[i].content) } }
        if blocks.isEmpty {
            throw NATSError(.invalidCredentials,
                            "no '-----BEGIN NATS USER JWT-----' block found: this is not a NATS creds file (nsc and the account server write them)")
        }
        guard let jwtIndex = blocks.firstIndex(where: { $0.label.uppercased().contains("JWT") }) else {
            throw NATSError(.invalidCredentials,
                            "the creds file has no user JWT block ('-----BEGIN NATS USER JWT-----'); it may hold only a seed: use it as a seed file instead")
        }
        guard let seedIndex = blocks.indices.first(where: { $0 != jwtIndex && isSeedLabel(blocks[$0].label) }) else {
            throw NATSError(.invalidCredentials,
                            "the creds file has no NKEY seed block ('-----BEGIN USER NKEY SEED-----'); the JWT alone cannot sign the server's challenge")
        }
        let jwt = String(decoding: blocks[jwtIndex].content, as: UTF8.self)
        try checkJWTShape(jwt, what: "the creds file's user JWT block")
        let keyPair = try userKeyPair(&blocks[seedIndex].content, what: "the creds file's NKEY seed block")
        return (jwt, keyPair)
    }

    /// The user JWT of a JWT file: the first decorated block, or the whole text when the file is
    /// not decorated (like nkeys' `ParseDecoratedJWT`).
    ///
    /// - Throws: `.invalidCredentials` when no JWT is found.
    public static func parseJWT(_ contents: [UInt8]) throws(NATSError) -> String {
        let blocks = try self.blocks(in: contents)
        let jwt: String
        if let block = blocks.first(where: { $0.label.uppercased().contains("JWT") }) ?? blocks.first {
            jwt = String(decoding: block.content, as: UTF8.self)
        } else {
            jwt = String(decoding: contents.filter { !NATSNKeyPair.isSpace($0) }, as: UTF8.self)
        }
        try checkJWTShape(jwt, what: "the JWT file")
        return jwt
    }

    /// The user key pair of a seed file: the seed block of a decorated file (the second block
    /// when none is labelled as a seed), or else the first line that starts with `S`.
    ///
    /// - Throws: `.invalidCredentials` when there is no seed, or it is malformed or not a user seed.
    public static func parseSeed(_ contents: [UInt8]) throws(NATSError) -> NATSNKeyPair {
        var blocks = try self.blocks(in: contents)
        defer { for i in blocks.indices { SecretBytes.wipe(&blocks[i].content) } }
        if !blocks.isEmpty {
            let index = blocks.firstIndex(where: { isSeedLabel($0.label) })
                ?? (blocks.count > 1 ? 1 : (blocks[0].content.first == UInt8(ascii: "S") ? 0 : nil))
            guard let index else {
                throw NATSError(.invalidCredentials, "the file has no NKEY seed block ('-----BEGIN USER NKEY SEED-----')")
            }
            return try userKeyPair(&blocks[index].content, what: "the seed block")
        }
        var start = 0
        while start < contents.count {
            var end = start
            while end < contents.count, contents[end] != 0x0A { end += 1 }
            var line = Array(contents[start..<end])
            var first = 0
            while first < line.count, NATSNKeyPair.isSpace(line[first]) { first += 1 }
            if first < line.count, line[first] == UInt8(ascii: "S") {
                return try userKeyPair(&line, what: "the seed file")
            }
            SecretBytes.wipe(&line)
            start = end + 1
        }
        throw NATSError(.invalidCredentials, "no NKEY seed found: expected a line starting with 'SU' (a user seed) or a '-----BEGIN USER NKEY SEED-----' block")
    }

    static func isSeedLabel(_ label: String) -> Bool {
        let upper = label.uppercased()
        return upper.contains("SEED") || upper.contains("NKEY")
    }

    /// Decodes seed text (`SU…`) into a user key pair and overwrites the text with zeros.
    /// `what` names the seed in error messages ("the seed file").
    ///
    /// - Throws: `.invalidCredentials` when the seed is malformed or not a user seed.
    public static func userKeyPair(_ characters: inout [UInt8], what: String) throws(NATSError) -> NATSNKeyPair {
        var keyPair: NATSNKeyPair
        do {
            keyPair = try NATSNKeyPair(seedCharacters: &characters)
        } catch {
            throw NATSError(.invalidCredentials, "\(what): \(error.message)")
        }
        guard keyPair.type == .user else {
            let type = keyPair.type
            keyPair.wipe()
            throw NATSError(.invalidCredentials,
                            "\(what) holds an \(type) seed ('S\(type.letter)…'); connecting needs a user seed ('SU…'), the one that belongs to the user JWT or NKEY user")
        }
        return keyPair
    }

    /// Checks that `jwt` looks like a JWT: three base64url parts separated by dots.
    static func checkJWTShape(_ jwt: String, what: String) throws(NATSError) {
        let parts = jwt.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && NATSBase64URL.decode($0) != nil }) else {
            throw NATSError(.invalidCredentials,
                            "\(what) does not hold a JWT (expected three base64url parts separated by dots); check that the file is complete")
        }
    }

    /// The decorated blocks of `contents`, in order.
    static func blocks(in contents: [UInt8]) throws(NATSError) -> [Block] {
        var blocks: [Block] = []
        var open: (label: String, content: [UInt8])?
        var start = 0
        while start <= contents.count {
            var end = start
            while end < contents.count, contents[end] != 0x0A { end += 1 }
            var first = start
            var last = end
            while first < last, NATSNKeyPair.isSpace(contents[first]) { first += 1 }
            while last > first, NATSNKeyPair.isSpace(contents[last - 1]) { last -= 1 }
            let line = contents[first..<last]
            if isDelimiter(line) {
                if let current = open {
                    if current.content.isEmpty {
                        throw NATSError(.invalidCredentials,
                                        "the '\(current.label)' block is empty (a delimiter line follows it directly); the file is damaged")
                    }
                    blocks.append(Block(label: current.label, content: current.content))
                    open = nil
                } else {
                    let label = String(decoding: line.filter { $0 != UInt8(ascii: "-") }, as: UTF8.self)
                    open = (label.trimmingSpaces(), [])
                }
            } else if var current = open, !line.isEmpty {
                open = nil
                current.content.append(contentsOf: line)
                open = current
            }
            start = end + 1
        }
        if var current = open {
            SecretBytes.wipe(&current.content)
            throw NATSError(.invalidCredentials,
                            "the '\(current.label)' block is not closed (its '------END …------' line is missing): the file looks truncated")
        }
        return blocks
    }

    static func isDelimiter(_ line: ArraySlice<UInt8>) -> Bool {
        let dash = UInt8(ascii: "-")
        guard line.count >= 6 else { return false }
        let i = line.startIndex
        return line[i] == dash && line[i + 1] == dash && line[i + 2] == dash
            && line[line.endIndex - 1] == dash && line[line.endIndex - 2] == dash && line[line.endIndex - 3] == dash
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
