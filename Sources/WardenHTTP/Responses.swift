import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

extension Response {
    /// A JSON response from already-encoded bytes.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// JSON encodings of API answers, written directly (these are on the intake path or carry raw event text).
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
}
