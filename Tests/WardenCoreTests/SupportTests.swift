import Testing
import WardenSimulation
@testable import WardenCore

@Suite struct SupportTests {
    @Test func ndjsonSkipsBlankLinesButCountsThem() {
        let body = Array("{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}".utf8)
        let lines = body.withUnsafeBufferPointer { NDJSON.lines($0) }
        #expect(lines.map(\.number) == [1, 4, 5])
        #expect(lines[0].range == 0..<7)
    }

    @Test func positionsCountLinesAndColumns() {
        let bytes = Array("{\n  \"a\": x\n}".utf8)
        let position = bytes.withUnsafeBufferPointer { TextPosition(offset: 9, in: $0) }
        #expect(position == TextPosition(line: 2, column: 8))
    }

    @Test func jsonWriterOutputParsesBack() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        writer.key("list")
        writer.beginArray()
        writer.number(Int64(-3))
        writer.number(2.5)
        writer.bool(true)
        writer.null()
        writer.endArray()
        writer.endObject()
        #expect(JSONValue.parse(writer.bytes) == .object([
            "text": .string("quote \" backslash \\ newline \n tab \t bell \u{07} é"),
            "list": .array([.number(-3), .number(2.5), .bool(true), .null]),
        ]))
    }

    @Test func jsonMembersFindsSeveralMembersInOnePass() {
        let text = #"{ "text" : "a \"quoted\" {not} [an object]", "nested": {"text": "inner", "list": [1, "]", {"a": null}]},"#
            + #" "amount":12.5 ,"te\u0078t2": true, "amount": -3e2, "flag":false}"#
        let bytes = Array(text.utf8)
        let keys = ["text", "nested", "amount", "text2", "flag", "missing"].map { Array($0.utf8) }
        var ranges = [Range<Int>?](repeating: 0..<1, count: keys.count)
        bytes.withUnsafeBufferPointer { JSONMembers.locate(keys, in: $0, base: 100, into: &ranges) }
        let found = ranges.map { $0.map { String(decoding: bytes[($0.lowerBound - 100)..<($0.upperBound - 100)], as: UTF8.self) } }
        #expect(found == [#""a \"quoted\" {not} [an object]""#, #"{"text": "inner", "list": [1, "]", {"a": null}]}"#,
                          "-3e2", "true", "false", nil])
    }

    @Test func jsonMembersAgreesWithTheValidatingLookupAndNeverTraps() {
        // Random valid objects: each member found in one pass is where the validating lookup puts it.
        var random = SplitMix64(seed: 7)
        let names = ["a", "text", "b", "amount", "t\\u0065xt"]
        func value(_ depth: Int) -> String {
            switch random.next() % (depth > 2 ? 4 : 6) {
            case 0: return "\"s\\\"}]\\u00e9 é\""
            case 1: return "-12.5e1"
            case 2: return "true"
            case 3: return "null"
            case 4: return "[" + (0..<Int(random.next() % 3)).map { _ in value(depth + 1) }.joined(separator: " , ") + "]"
            default: return "{" + (0..<Int(random.next() % 3)).map { _ in "\"\(names[Int(random.next() % 5)])\":\(value(depth + 1))" }.joined(separator: ",") + "}"
            }
        }
        let keys = ["a", "text", "b", "amount"]
        for _ in 0..<500 {
            let members = (0..<Int(random.next() % 5)).map { _ in "\"\(names[Int(random.next() % 5)])\" : \(value(1))" }
            let bytes = Array(("{ " + members.joined(separator: " ,\n") + " }").utf8)
            var ranges = [Range<Int>?](repeating: nil, count: keys.count)
            bytes.withUnsafeBufferPointer { buffer in
                JSONMembers.locate(keys.map { Array($0.utf8) }, in: buffer, into: &ranges)
                for (index, key) in keys.enumerated() {
                    #expect(ranges[index] == JSONValue.location(of: [key], in: buffer), "\(key) in \(String(decoding: bytes, as: UTF8.self))")
                }
            }
            // Cut short or corrupted, it finds less but never traps.
            for cut in stride(from: 0, to: bytes.count, by: 3) {
                var broken = Array(bytes[..<cut])
                if cut % 2 == 0, !broken.isEmpty { broken[broken.count / 2] = UInt8(ascii: "\\") }
                broken.withUnsafeBufferPointer { JSONMembers.locate(keys.map { Array($0.utf8) }, in: $0, into: &ranges) }
            }
        }
    }

    @Test func jsonValuesCompareObjectsRegardlessOfKeyOrder() {
        #expect(JSONValue.parse(Array(#"{"a":1,"b":[true,{"c":"d"}]}"#.utf8)) == JSONValue.parse(Array(#" { "b" : [ true , {"c":"d"} ] , "a" : 1.0 } "#.utf8)))
        #expect(JSONValue.parse(Array(#"{"a":1}"#.utf8)) != JSONValue.parse(Array(#"{"a":2}"#.utf8)))
    }

    @Test func ipAddresses() {
        for valid in ["203.0.113.7", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::1", "::", "fe80::1%eth0", "::ffff:192.0.2.1",
                      "1:2:3:4:5:6:7:8", "1::", "2001:DB8:0:0:8:800:200C:417A", "1:2:3:4:5:6:1.2.3.4", "a::b:c"] {
            #expect(IPAddress.isValid(valid), "\(valid)")
        }
        for invalid in ["256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.", ".1.2.3", "1..2.3", "abc", "1::2::3", "1:2:3:4:5:6:7:8:9",
                        "12345::1", "", ":", ":1::", "1:2", "::g", "1:::2", "fe80::1%", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3"] {
            #expect(!IPAddress.isValid(invalid), "\(invalid)")
        }
    }

    @Test func entityRefsParseTypeColonID() {
        #expect(EntityRef(parsing: "ip:2001:db8::1") == EntityRef(type: "ip", id: "2001:db8::1"))
        #expect(EntityRef(parsing: "user") == nil)
        #expect(EntityRef(parsing: ":x") == nil)
        // A colon followed by a combining mark or emoji modifier is one Character with it: still the split.
        #expect(EntityRef(parsing: "1:\u{1F3FB}") == EntityRef(type: "1", id: "\u{1F3FB}"))
        #expect(EntityRef(parsing: "user:\u{301}x") == EntityRef(type: "user", id: "\u{301}x"))
    }

    @Test func taxonomyReportsEveryProblem() {
        let taxonomy = Taxonomy(severities: [], categories: [
            .init(id: "spam", name: "Spam"), .init(id: "spam", name: "Again"), .init(id: "fraud.scam", name: "Scam"), .init(id: "Bad Id", name: ""),
        ])
        let paths = taxonomy.problems().map(\.path)
        #expect(paths == ["severities", "categories[1].id", "categories[2].id", "categories[3].id", "categories[3].name"])
    }
}

@Suite struct SimulatorTests {
    static let reasons: Set<String> = ["spam", "harassment", "harassment.bullying"]

    func run(seed: UInt64, count: Int) -> [SimulatedEvent] {
        var options = SimulationOptions(start: 1_793_491_200_000)
        options.seed = seed
        options.rate = 10
        options.cycleMillis = 600_000
        var simulator = Simulator(options: options)
        return (0..<count).compactMap { _ in simulator.next() }
    }

    @Test func sameSeedSameTraffic() {
        #expect(run(seed: 1, count: 3000).map(\.json) == run(seed: 1, count: 3000).map(\.json))
        #expect(run(seed: 1, count: 100).map(\.json) != run(seed: 2, count: 100).map(\.json))
    }

    @Test func everyEventIsValidAndInTimeOrderWithUniqueIDs() throws {
        let events = run(seed: 5, count: 12_000)
        let schema = EventSchema(reportReasons: Self.reasons)
        var ids = Set<String>()
        for (index, event) in events.enumerated() {
            _ = try event.json.withUnsafeBufferPointer { buffer throws(EventError) in try schema.parse(buffer, now: event.occurredAt) }
            #expect(ids.insert(event.id).inserted)
            if index > 0 { #expect(events[index - 1].occurredAt <= event.occurredAt) }
        }
    }

    @Test func everyCampaignRunsWithGroundTruth() {
        let events = run(seed: 3, count: 12_000)
        let campaigns = Set(events.flatMap(\.truth).filter { $0.kind == "campaign" }.map(\.campaign))
        #expect(campaigns == Set(Campaign.allCases))
        let farm = events.filter { $0.truth.contains { $0.campaign == .signupFarm && $0.kind == "event" && $0.cycle == 0 } }
        #expect(farm.count == 60)
        let reports = events.filter { $0.truth.contains { $0.campaign == .harassmentPileOn } && $0.json.starts(with: Array(#"{"id":"#.utf8)) && String(decoding: $0.json, as: UTF8.self).contains(#""type":"report""#) }
        #expect(!reports.isEmpty)
    }
}

@Suite struct LineDiffTests {
    @Test(arguments: [
        ("a\nb\nc", "a\nb\nc", "  a|  b|  c"),
        ("a\nb\nc", "a\nx\nc", "  a|- b|+ x|  c"),
        ("", "a", "- |+ a"),
        ("a\nb", "a\nb\nc", "  a|  b|+ c"),
        ("a\nb\nc", "c", "- a|- b|  c"),
    ])
    func diffs(old: String, new: String, expected: String) {
        let text = LineDiff.diff(old, new).map { ($0.kind == .same ? " " : $0.kind == .added ? "+" : "-") + " " + $0.text }.joined(separator: "|")
        #expect(text == expected)
    }
}
