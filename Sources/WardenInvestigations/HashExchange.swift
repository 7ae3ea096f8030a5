import Foundation
public import WardenCore

/// Reading and writing banks in the formats hash-sharing tools use.
///
/// - `hma`: JSON lines, one piece of content per line, as Meta's Hasher-Matcher-Actioner (Open Media
///   Match) takes signals for a bank: signal type name → hash (`{"pdq": "…"}`, `{"md5": "…"}`;
///   `video_md5` and `photo_md5` count as md5), with the optional `metadata.content_id` HMA keeps;
///   Warden adds `tags` and `opinion` on export and reads them back.
/// - `threatexchange`: ThreatExchange's Graph API descriptor page, `{"data": [descriptor…]}` (or
///   one descriptor per line), each with `raw_indicator`, `type` (`HASH_PDQ`, `HASH_MD5`,
///   `HASH_SHA256`), `status` (`NON_MALICIOUS` imports as deconfirmed) and `tags` (a list, or the
///   API's `{"data": [{"text": …}]}`).
public enum HashExchangeFormat: String, Sendable, CaseIterable {
    case hma, threatexchange

    /// The media type a file of this format is served as.
    public var contentType: String { self == .hma ? "application/x-ndjson" : "application/json" }
}

/// One hash read from an exchange file.
public struct ImportedHash: Sendable, Equatable {
    public var hash: String
    public var opinion: HashOpinion?
    public var tags: [String]
    public var contentID: String?

    public init(hash: String, opinion: HashOpinion?, tags: [String], contentID: String?) {
        self.hash = hash
        self.opinion = opinion
        self.tags = tags
        self.contentID = contentID
    }
}

/// What a file held for one bank's kind.
public struct HashImport: Sendable, Equatable {
    public var hashes: [ImportedHash]
    /// Entries for other kinds of hash (another signal type in the same file), left out.
    public var otherKinds: Int
}

public enum HashExchange {
    /// The most hashes one import takes.
    public static let maximumImport = 1_000_000

    /// Reads `text` in `format`, keeping the hashes of `kind`. Every problem is reported with its
    /// line (or descriptor) number; nothing is kept from a file with a problem.
    public static func read(_ text: String, format: HashExchangeFormat, kind: HashKind) throws(HashError) -> HashImport {
        switch format {
        case .hma: return try readHMA(text, kind: kind)
        case .threatexchange: return try readThreatExchange(text, kind: kind)
        }
    }

    static func readHMA(_ text: String, kind: HashKind) throws(HashError) -> HashImport {
        var result = HashImport(hashes: [], otherKinds: 0)
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let where_ = "line \(offset + 1)"
            guard let value = try? JSONValue.parse(Array(trimmed.utf8)), case .object(let members) = value else {
                throw HashError("\(where_): not a JSON object such as {\"pdq\": \"…\"}")
            }
            var found = false
            var tags: [String] = []
            var opinion: HashOpinion?
            var contentID: String?
            if case .object(let metadata)? = members["metadata"] {
                contentID = metadata["content_id"]?.stringValue
            }
            if let given = members["tags"] { tags = try Self.tags(given, where_) }
            if let given = members["opinion"] {
                guard let name = given.stringValue, let parsed = HashOpinion(rawValue: name) else {
                    throw HashError("\(where_): opinion is one of \(HashOpinion.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                opinion = parsed
            }
            var hashes: [String] = []
            for (name, item) in members where !["metadata", "tags", "opinion"].contains(name) {
                guard let signal = Self.signalKind(name) else { result.otherKinds += 1; continue }
                guard signal == kind else { result.otherKinds += 1; continue }
                guard let text = item.stringValue else { throw HashError("\(where_): \(name) is a string of hex digits") }
                do {
                    hashes.append(try kind.normalize(text))
                } catch {
                    throw HashError("\(where_): \(error.description)")
                }
                found = true
            }
            if !found && members.keys.allSatisfy({ ["metadata", "tags", "opinion"].contains($0) }) {
                throw HashError("\(where_): no signal in it; give one such as {\"\(kind.rawValue)\": \"…\"}")
            }
            for hash in hashes { result.hashes.append(ImportedHash(hash: hash, opinion: opinion, tags: tags, contentID: contentID)) }
            guard result.hashes.count <= maximumImport else { throw HashError("an import takes at most \(maximumImport) hashes") }
        }
        return result
    }

    static func readThreatExchange(_ text: String, kind: HashKind) throws(HashError) -> HashImport {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var descriptors: [(String, JSONValue)] = []
        if let value = try? JSONValue.parse(Array(trimmed.utf8)), case .object(let page) = value, page["raw_indicator"] == nil {
            guard case .array(let items)? = page["data"] else {
                throw HashError("a ThreatExchange file is a descriptor page {\"data\": [...]} or one descriptor per line")
            }
            descriptors = items.enumerated().map { ("descriptor \($0.offset + 1)", $0.element) }
        } else {
            for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty { continue }
                guard let value = try? JSONValue.parse(Array(line.utf8)) else { throw HashError("line \(offset + 1): not JSON") }
                descriptors.append(("line \(offset + 1)", value))
            }
        }
        var result = HashImport(hashes: [], otherKinds: 0)
        for (where_, value) in descriptors {
            guard case .object(let descriptor) = value else { throw HashError("\(where_): a descriptor is a JSON object") }
            guard let type = descriptor["type"]?.stringValue else { throw HashError("\(where_): type is missing (HASH_PDQ, HASH_MD5 or HASH_SHA256)") }
            guard let raw = descriptor["raw_indicator"]?.stringValue else { throw HashError("\(where_): raw_indicator is missing") }
            let signal: HashKind? = switch type.uppercased() {
            case "HASH_PDQ": .pdq
            case "HASH_MD5": .md5
            case "HASH_SHA256": .sha256
            default: nil
            }
            guard signal == kind else { result.otherKinds += 1; continue }
            let hash: String
            do { hash = try kind.normalize(raw) } catch { throw HashError("\(where_): \(error.description)") }
            let status = descriptor["status"]?.stringValue?.uppercased()
            var tags: [String] = []
            if let given = descriptor["tags"] { tags = try Self.tags(given, where_) }
            result.hashes.append(ImportedHash(hash: hash, opinion: status == "NON_MALICIOUS" ? .deconfirmed : nil, tags: tags,
                                              contentID: descriptor["id"]?.stringValue ?? descriptor["id"]?.numberValue.map { String(Int64($0)) }))
            guard result.hashes.count <= maximumImport else { throw HashError("an import takes at most \(maximumImport) hashes") }
        }
        return result
    }

    static func signalKind(_ name: String) -> HashKind? {
        switch name {
        case "pdq": .pdq
        case "md5", "video_md5", "photo_md5": .md5
        case "sha256": .sha256
        default: nil
        }
    }

    static func tags(_ value: JSONValue, _ where_: String) throws(HashError) -> [String] {
        var items: [JSONValue] = []
        if case .array(let list) = value { items = list }
        else if case .object(let page) = value, case .array(let list)? = page["data"] {
            items = list.map { item in if case .object(let tag) = item { tag["text"] ?? .null } else { item } }
        } else {
            throw HashError("\(where_): tags is a list of strings")
        }
        var tags: [String] = []
        for item in items {
            guard let tag = item.stringValue, (1...100).contains(tag.count) else { throw HashError("\(where_): each tag is a string of 1 to 100 characters") }
            tags.append(tag)
        }
        return tags
    }

    /// Writes a bank's entries in `format`.
    public static func write(_ entries: [BankEntry], kind: HashKind, format: HashExchangeFormat) -> String {
        switch format {
        case .hma:
            return entries.map { entry in
                JSONWriter.object { writer in
                    writer.field(kind.rawValue, entry.hash)
                    if let content = entry.contentID {
                        writer.key("metadata")
                        writer.beginObject()
                        writer.field("content_id", content)
                        writer.endObject()
                    }
                    writer.key("tags")
                    writer.beginArray()
                    for tag in entry.tags { writer.string(tag) }
                    writer.endArray()
                    writer.field("opinion", entry.opinion.rawValue)
                } + "\n"
            }.joined()
        case .threatexchange:
            let type = "HASH_" + kind.rawValue.uppercased()
            return JSONWriter.object { writer in
                writer.key("data")
                writer.beginArray()
                for entry in entries {
                    writer.beginObject()
                    writer.field("id", entry.contentID ?? "warden-\(entry.id)")
                    writer.field("raw_indicator", entry.hash)
                    writer.field("type", type)
                    writer.field("status", entry.opinion == .deconfirmed ? "NON_MALICIOUS" : "MALICIOUS")
                    writer.key("tags")
                    writer.beginArray()
                    for tag in entry.tags { writer.string(tag) }
                    writer.endArray()
                    writer.field("added_on", Timestamp.formatRFC3339(entry.addedAt))
                    writer.endObject()
                }
                writer.endArray()
            } + "\n"
        }
    }
}

extension JSONValue {
    var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    var numberValue: Double? { if case .number(let number) = self { number } else { nil } }
}
