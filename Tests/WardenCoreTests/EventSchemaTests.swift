import Testing
import WardenSimulation
@testable import WardenCore

let testNow: Int64 = 1_795_428_000_000
let testSchema = EventSchema(reportReasons: ["spam", "harassment", "harassment.bullying"])

func parse(_ text: String, schema: EventSchema = testSchema) throws(EventError) -> ParsedEvent {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { buffer throws(EventError) in try schema.parse(buffer, now: testNow) }
}

func error(_ text: String) -> EventError? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct EventSchemaTests {
    @Test func extractsTheIndexedFields() throws {
        let event = try parse(#"{"id":"evt_1","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u1"},"entities":{"ip":"203.0.113.7","device":"d9"},"data":{"text":"hi \"there\"","n":[1,2.5e3,{"x":null}],"ok":true}}"#)
        #expect(event.id == "evt_1")
        #expect(event.type == "message.sent")
        #expect(event.occurredAt == testNow)
        #expect(event.actor == EntityRef(type: "user", id: "u1"))
        #expect(event.entities == [EntityRef(type: "ip", id: "203.0.113.7"), EntityRef(type: "device", id: "d9")])
        #expect(event.dataRange != nil)
        #expect(event.involvedEntities.count == 3)
    }

    @Test func decodesEscapesInIndexedStrings() throws {
        let event = try parse(#"{"id":"a\u0062c","type":"x","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"\u00e9l\u00e8ve"}}"#)
        #expect(event.id == "abc")
        #expect(event.actor?.id == "élève")
    }

    @Test func requiresIdTypeAndTime() {
        #expect(error(#"{"type":"x","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "id")
        #expect(error(#"{"id":"a","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "type")
        #expect(error(#"{"id":"a","type":"x"}"#)?.field == "occurred_at")
    }

    @Test func namesTheFieldWithAWrongValue() {
        let base = #""id":"a","type":"x","occurred_at":"2026-11-23T10:00:00Z""#
        #expect(error(#"{"id":7,"type":"x","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "id")
        #expect(error(#"{"id":"a","type":"Message Sent","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "type")
        #expect(error(#"{"id":"a","type":"x","occurred_at":"2026-02-30T00:00:00Z"}"#)?.field == "occurred_at")
        #expect(error(#"{"id":"a","type":"x","occurred_at":1700000000}"#)?.field == "occurred_at")
        #expect(error("{\(base),\"entities\":{\"devcie\":\"d1\"}}")?.field == "entities.devcie")
        #expect(error("{\(base),\"entities\":{\"ip\":\"999.1.1.1\"}}")?.field == "entities.ip")
        #expect(error("{\(base),\"entities\":{\"ip\":5}}")?.field == "entities.ip")
        #expect(error("{\(base),\"entities\":[]}")?.field == "entities")
        #expect(error("{\(base),\"actor\":{\"type\":\"robot\",\"id\":\"r\"}}")?.field == "actor")
        #expect(error("{\(base),\"actor\":{\"type\":\"user\"}}")?.field == "actor.id")
        #expect(error("{\(base),\"data\":\"text\"}")?.field == "data")
        #expect(error("{\(base),\"occured_at\":\"2026-11-23T10:00:00Z\"}")?.field == "occured_at")
        #expect(error("{\(base),\"id\":\"b\"}")?.field == "id")
        #expect(error(#"{"id":"a b","type":"x","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "id")
    }

    @Test func refusesTimesFarInTheFuture() {
        #expect(error(#"{"id":"a","type":"x","occurred_at":"2026-11-25T10:00:00Z"}"#)?.field == "occurred_at")
        #expect(error(#"{"id":"a","type":"x","occurred_at":"2026-11-24T09:00:00Z"}"#) == nil)
    }

    @Test func limitsSizes() {
        let longID = String(repeating: "a", count: 201)
        #expect(error("{\"id\":\"\(longID)\",\"type\":\"x\",\"occurred_at\":\"2026-11-23T10:00:00Z\"}")?.field == "id")
        var small = EventLimits()
        small.maxEventBytes = 100
        let schema = EventSchema(reportReasons: [], limits: small)
        let big = "{\"id\":\"a\",\"type\":\"x\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"data\":{\"t\":\"\(String(repeating: "x", count: 100))\"}}"
        #expect(throws: EventError.self) { try parse(big, schema: schema) }
        let deep = "{\"id\":\"a\",\"type\":\"x\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"data\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
        #expect(error(deep)?.kind == .syntax)
    }

    @Test func syntaxErrorsCarryTheirOffset() {
        let broken = #"{"id":"a","type":tru}"#
        let failure = error(broken)
        #expect(failure?.kind == .syntax)
        #expect(failure?.offset == 17)
        #expect(error(#"{"id":"a"} {"#)?.kind == .syntax)
        #expect(error("{\"id\":\"a\u{01}\"}")?.kind == .syntax)
        #expect(error("[1,2]")?.kind == .syntax)
        #expect(error("{\"id\":01}")?.kind == .syntax)
    }

    @Test func rejectsInvalidUTF8() {
        var bytes = Array(#"{"id":"a","type":"x","occurred_at":"2026-11-23T10:00:00Z","data":{"t":"xx"}}"#.utf8)
        bytes[bytes.lastIndex(of: UInt8(ascii: "x"))!] = 0xFF
        #expect(throws: EventError.self) {
            try bytes.withUnsafeBufferPointer { buffer throws(EventError) in try testSchema.parse(buffer, now: testNow) }
        }
    }

    @Test func validatesReports() throws {
        let report = #"{"id":"r1","type":"report","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u9"},"entities":{"user":"u1"},"data":{"reason":"harassment.bullying","subject":"user:u1","text":"mean"}}"#
        #expect(try parse(report).type == "report")
        #expect(error(report.replacingOccurrences(of: "harassment.bullying", with: "nope"))?.field == "data.reason")
        #expect(error(report.replacingOccurrences(of: #""subject":"user:u1""#, with: #""subject":"user:u2""#))?.field == "data.subject")
        #expect(error(report.replacingOccurrences(of: #""actor":{"type":"user","id":"u9"},"#, with: ""))?.field == "actor")
        #expect(error(#"{"id":"a","type":"appeal","occurred_at":"2026-11-23T10:00:00Z"}"#)?.field == "type")
    }

    @Test func reportSubmissionsBecomeValidReportEvents() throws {
        let submission = ReportSubmission(id: "r9", reporter: .init(type: "user", id: "u2"), contentID: "c7", reason: "spam", text: "ad")
        let json = try submission.eventJSON(defaultID: "unused", now: testNow)
        let event = try json.withUnsafeBufferPointer { buffer throws(EventError) in try testSchema.parse(buffer, now: testNow) }
        #expect(event.id == "r9")
        #expect(event.entities == [EntityRef(type: "content", id: "c7")])
    }

    @Test func arbitraryBytesNeverCrashTheScanner() {
        var random = SplitMix64(seed: 99)
        let valid = Array(#"{"id":"evt_1","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u1"},"entities":{"ip":"203.0.113.7"},"data":{"text":"h\u00e9 \"q\"","n":[1,-2.5e-3,true,null]}}"#.utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<(1 + random.below(4)) {
                switch random.below(3) {
                case 0: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: random.below(bytes.count))
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(bytes.count))
                }
            }
            let parsed = try? bytes.withUnsafeBufferPointer { buffer throws(EventError) in try testSchema.parse(buffer, now: testNow) }
            if parsed != nil {
                accepted += 1
                // Whatever the scanner accepts must be JSON a full parser agrees with.
                #expect(JSONValue.parse(bytes) != nil)
            }
        }
        #expect(accepted < 20_000)
    }
}
