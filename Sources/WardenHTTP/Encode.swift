import Hummingbird
import WardenCore
import WardenEngine
import WardenRules
import WardenStore

extension Response {
    /// A JSON response from already-encoded bytes.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The API's hand-written JSON, all of it: answers on the intake path (measured hot), answers that
/// carry stored text as it is (events; audit entries, whose `detail` is the exact text the chain
/// hashes), and streamed exports. Every other answer is a `Codable` type encoded by the context.
enum Encode {
    static func intakeResult(_ result: IntakeResult, into writer: inout JSONWriter) {
        for (name, value) in intakeMembers(result) {
            writer.key(name)
            writer.raw(value)
        }
    }

    /// The members of an intake answer (counts and per-line results), each encoded.
    static func intakeMembers(_ result: IntakeResult) -> [(String, [UInt8])] {
        var members = [("accepted", result.accepted), ("duplicates", result.duplicates), ("conflicts", result.conflicts),
                       ("rejected", result.rejected)].map { ($0.0, Array(String($0.1).utf8)) }
        var writer = JSONWriter(capacity: 64 * result.results.count + 16)
        writer.beginArray()
        for line in result.results {
            writer.beginObject()
            writer.field("line", Int64(line.line))
            if let id = line.id { writer.field("id", id) }
            writer.field("status", line.status.rawValue)
            if let seq = line.seq { writer.field("seq", seq) }
            if let error = line.error {
                writer.key("error")
                lineError(error, into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        members.append(("results", writer.bytes))
        return members
    }

    static func lineError(_ error: LineError, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("code", error.code)
        if let field = error.field { writer.field("field", field) }
        if let line = error.line { writer.field("line", Int64(line)) }
        if let column = error.column { writer.field("column", Int64(column)) }
        writer.field("message", error.message)
        writer.endObject()
    }

    static func storedEvent(_ event: StoredEvent, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("seq", event.seq)
        writer.field("received_at", Timestamp.formatRFC3339(event.receivedAt))
        writer.key("event")
        writer.raw(event.body)
        writer.endObject()
    }

    static func entity(_ ref: EntityRef, into writer: inout JSONWriter) {
        writer.field("entity", ref.description)
        writer.field("type", ref.type)
        writer.field("id", ref.id)
    }

    /// A page of the audit log; each entry's `detail` is the stored text itself, so a reader can
    /// recompute the chain's hashes from the answer.
    static func auditPage(_ entries: [AuditEntry], nextAfter: Int64?) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 * entries.count + 64)
        writer.beginObject()
        writer.key("entries")
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            writer.field("seq", entry.seq)
            writer.field("at", Timestamp.formatRFC3339(entry.at))
            writer.field("actor", entry.actor)
            writer.field("action", entry.action)
            writer.field("target", entry.target)
            writer.key("detail")
            writer.raw(Array(entry.detail.utf8))
            writer.field("previous_hash", entry.previousHash.hexString)
            writer.field("hash", entry.hash.hexString)
            writer.endObject()
        }
        writer.endArray()
        writer.key("next_after")
        if let nextAfter { writer.number(nextAfter) } else { writer.null() }
        writer.endObject()
        return writer.bytes
    }

    /// Statements of reasons made in [from, to) as NDJSON, one a line, paged from the store as it streams.
    static func statements(from: Int64, to: Int64, store: any StatementStore) -> ResponseBody {
        ResponseBody { writer in
            var after: Int64 = 0
            while true {
                let page = try await store.statements(from: from, to: to, after: after, limit: 1000)
                if page.isEmpty { break }
                var buffer = ByteBuffer()
                buffer.reserveCapacity(page.reduce(0) { $0 + $1.body.utf8.count + 1 })
                for statement in page {
                    buffer.writeString(statement.body)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                }
                try await writer.write(buffer)
                after = page.last?.decisionID ?? after
                if page.count < 1000 { break }
            }
            try await writer.finish(nil)
        }
    }

    /// The answer of a synchronous evaluation: the verdict and the rules that fired, with why;
    /// rules waiting for classifiers served over an API (they do not change the verdict; once the
    /// event is ingested, the classification stage settles them); and what ingesting did.
    static func evaluation(_ evaluation: Evaluation, eventID: String, ingested: LineResult?) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.field("event_id", eventID)
        writer.field("verdict", evaluation.verdict.rawValue)
        writer.key("hits")
        writer.beginArray()
        for hit in evaluation.hits { ruleHit(hit, into: &writer) }
        writer.endArray()
        writer.key("pending")
        writer.beginArray()
        for hit in evaluation.pending { ruleHit(hit, into: &writer) }
        writer.endArray()
        if let ingested {
            writer.key("ingested")
            writer.beginObject()
            writer.field("status", ingested.status.rawValue)
            if let seq = ingested.seq { writer.field("seq", seq) }
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// One rule hit; a pending one also says what it waits for.
    static func ruleHit(_ hit: RuleHit, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("rule", hit.rule)
        writer.field("version", hit.version)
        writer.field("mode", hit.mode.rawValue)
        writer.field("category", hit.category)
        writer.field("severity", hit.severity)
        writer.field("explanation", hit.explanation)
        if let condition = hit.condition { writer.field("waiting_for", condition.describe()) }
        writer.key("effects")
        EffectJSON.write(hit.effects, into: &writer)
        writer.endObject()
    }

    /// An entity with its recent events (as stored), labels and links.
    static func entity(_ detail: EntityDetail, labels: [StoredLabel]) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        entity(detail.ref, into: &writer)
        writer.field("first_seen_at", Timestamp.formatRFC3339(detail.firstSeenAt))
        writer.field("event_count", Int64(detail.eventCount))
        writer.field("indexed_through_seq", detail.indexedThroughSeq)
        writer.key("recent_events")
        writer.beginArray()
        for event in detail.recentEvents { storedEvent(event, into: &writer) }
        writer.endArray()
        writer.key("labels")
        writer.beginArray()
        for label in labels {
            writer.beginObject()
            writer.field("name", label.name)
            writer.field("source", label.source)
            writer.field("created_at", Timestamp.formatRFC3339(label.createdAt))
            if let expiresAt = label.expiresAt { writer.field("expires_at", Timestamp.formatRFC3339(expiresAt)) }
            writer.endObject()
        }
        writer.endArray()
        writer.key("links")
        writer.beginArray()
        for link in detail.links {
            writer.beginObject()
            entity(link.entity, into: &writer)
            writer.field("first_seq", link.firstSeq)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
