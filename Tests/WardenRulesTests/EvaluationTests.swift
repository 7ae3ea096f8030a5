import Foundation
import Synchronization
import Testing
import WardenCore
@testable import WardenRules

/// The compiled forms evaluation relies on: conditions specialised per event type, counter state
/// keyed by stable hashes, compact windows, and data fields read by path.
@Suite struct EvaluationTests {
    /// Rules whose type tests take every shape the type index and specialisation handle fire on
    /// exactly the events an unspecialised reading of them says they should.
    @Test func typeTestsFireOnExactlyTheRightTypes() throws {
        let rules = try compile("""
            rule only_posts category spam severity low
            when event.type == "content.posted" and event.data.text contains "win"
            then signal

            rule posts_or_messages category spam severity low
            when event.type in ["content.posted", "message.sent"] and event.data.text contains "win"
            then signal

            rule anything_but_posts category spam severity low
            when not (event.type == "content.posted") and event.data.text contains "win"
            then signal

            rule either_way category spam severity low
            when (event.type == "message.sent" or event.data.text startswith "win") and event.type != "report.filed"
            then signal

            rule reversed category spam severity low
            when "message.sent" == event.type and event.data.missing == null
            then signal
            """)
        var detector = Detector(rules: rules)
        func fired(_ type: String, _ text: String) -> Set<String> {
            let (parsed, body) = event(type, at: 1, data: #"{"text":"\#(text)"}"#)
            return Set(detector.process(parsed, body: body).hits.map(\.rule))
        }
        #expect(fired("content.posted", "you win") == ["only_posts", "posts_or_messages"])
        #expect(fired("content.posted", "win now") == ["only_posts", "posts_or_messages", "either_way"])
        #expect(fired("message.sent", "you win") == ["posts_or_messages", "anything_but_posts", "either_way", "reversed"])
        #expect(fired("message.sent", "hello") == ["either_way", "reversed"])
        #expect(fired("payment.attempted", "win") == ["anything_but_posts", "either_way"])
        #expect(fired("payment.attempted", "lose") == [])
    }

    /// Tests read straight from the event's bytes agree with the decoded values: escapes are
    /// decoded, canonically equivalent spellings are equal, and numbers compare as numbers.
    @Test func fieldTestsInTheEventBytesMatchDecodedValues() throws {
        let rules = try compile(#"""
            rule cafe category spam severity low when event.data.word == "café" then signal
            rule not_cafe category spam severity low when event.data.word != "café" then signal
            rule quoted category spam severity low when event.data.text contains "say \"hi\"" then signal
            rule tail category spam severity low when event.data.text endswith "end" then signal
            rule five category spam severity low when event.data.n == "5" then signal
            """#)
        var detector = Detector(rules: rules)
        func fired(_ data: String) -> Set<String> {
            let (parsed, body) = event("message.sent", at: 1, data: data)
            return Set(detector.process(parsed, body: body).hits.map(\.rule))
        }
        #expect(fired(#"{"word":"café"}"#) == ["cafe"])
        #expect(fired(#"{"word":"cafe\u0301"}"#) == ["cafe"])  // e and a combining accent, escaped
        #expect(fired("{\"word\":\"cafe\u{301}\"}") == ["cafe"])  // the same, raw UTF-8
        #expect(fired(#"{"word":"cafe"}"#) == ["not_cafe"])
        #expect(fired(#"{"text":"they say \"hi\" at the end"}"#) == ["quoted", "tail"])
        #expect(fired(#"{"n":5}"#) == ["five"])
        #expect(fired(#"{"n":"5"}"#) == ["five"])
        #expect(fired(#"{"word":null}"#) == [])  // null compares as unknown: neither rule fires
        #expect(fired("{}") == [])
    }

    /// Counter keys outlive the process in snapshots, so their hash must never change: these
    /// values are fixed, and an entity hashes as its `type:id` text.
    @Test func counterKeyHashesAreStable() {
        #expect(StableHash.of("") == StableHash().finalize())
        #expect(StableHash.of("ip:203.0.113.7") == Value.entity(EntityRef(type: "ip", id: "203.0.113.7")).keyHash)
        #expect(StableHash.of("ip:203.0.113.7") != StableHash.of("ip:203.0.113.8"))
        #expect(StableHash.of("abcdefgh") != StableHash.of("abcdefgh\u{0}"))
        #expect(StableHash.of("user:u1") == 9_371_822_091_049_274_189)  // recorded when snapshots took this format
        var seen = Set<UInt64>()
        for index in 0..<100_000 { seen.insert(StableHash.of("ip:10.0.\(index / 256).\(index % 256)")) }
        #expect(seen.count == 100_000)
    }

    /// First-seen times are kept by the entity's stable hash: `age` reads the same through a
    /// snapshot's round trip as from the live detector, and a snapshot of the layout before
    /// (format 2, times by `type:id` text) is read into the same state, without replaying the log.
    @Test func agesSurviveSnapshotsOfThisLayoutAndTheOneBefore() throws {
        let rules = try compile("""
            rule new_account category spam severity low
            when event.type == "message.sent" and age(event.actor) < 1h
            then signal
            rule new_ip category spam severity low
            when event.type == "message.sent" and age(event.ip) < 1h
            then signal
            """)
        var live = Detector(rules: rules)
        // u1 and its IP appear at second 0; u2 at 3,000 s on the same IP.
        for (actor, second) in [("u1", 0), ("u1", 600), ("u2", 3_000)] {
            let (parsed, body) = event("account.created", actor: actor, at: second)
            _ = live.process(parsed, body: body)
        }
        let snapshot = live.snapshot()
        #expect(snapshot.firstSeen.byKey.count == 3)  // user:u1, user:u2, ip:203.0.113.7
        #expect(snapshot.firstSeen.byKey[StableHash.of(EntityRef(type: "user", id: "u1"))] == 1_795_428_000_000)
        let bytes = try snapshot.encoded()
        let restored = Detector(rules: rules, snapshot: try DetectorSnapshot.decode(bytes))
        #expect(try restored.snapshot().encoded() == bytes, "canonical bytes")

        // The same state written the old way: first-seen times by entity text, format 2.
        var old = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        old["format"] = 2
        old["firstSeen"] = ["user:u1": 1_795_428_000_000, "user:u2": 1_795_431_000_000, "ip:203.0.113.7": 1_795_428_000_000]
        let upgraded = Detector(rules: rules, snapshot: try DetectorSnapshot.decode(Array(try JSONSerialization.data(withJSONObject: old))))
        #expect(try upgraded.snapshot().encoded() == bytes)
        var unknown = old
        unknown["format"] = 1
        #expect(throws: DecodingError.self) { try DetectorSnapshot.decode(Array(try JSONSerialization.data(withJSONObject: unknown))) }

        // At 3,500 s u1 is 58 min old and u2 8 min; the IP 58 min. At 3,700 s u1 and the IP are
        // over an hour old, u2 is not.
        for var detector in [live, restored, upgraded] {
            func fired(_ actor: String, at second: Int) -> Set<String> {
                let (parsed, body) = event("message.sent", actor: actor, at: second)
                return Set(detector.process(parsed, body: body).hits.map(\.rule))
            }
            #expect(fired("u1", at: 3_500) == ["new_account", "new_ip"])
            #expect(fired("u1", at: 3_700) == [])
            #expect(fired("u2", at: 3_700) == ["new_account"])
            #expect(fired("u3", at: 3_700) == ["new_account"])  // first seen on this very event
        }
    }

    /// Buckets slide with event time, late events land in their own bucket, and a key seen in one
    /// bucket keeps no heap storage.
    @Test func bucketWindowsSlideAndTakeLateEvents() {
        let width: Int64 = 10_000, window: Int64 = 600_000
        var counts = BucketWindow(1, at: 0, width: width)
        #expect(counts.older.isEmpty)
        counts.add(1, at: 5_000, width: width, window: window)
        #expect(counts.older.isEmpty && counts.total(at: 5_000, width: width, window: window) == 2)
        counts.add(1, at: 300_000, width: width, window: window)
        counts.add(1, at: 100_000, width: width, window: window)  // late
        #expect(counts.buckets.map(\.index) == [0, 10, 30])
        #expect(counts.total(at: 300_000, width: width, window: window) == 4)
        #expect(counts.total(at: 650_000, width: width, window: window) == 2)  // the first bucket left the window
        counts.add(1, at: 2_000_000, width: width, window: window)
        #expect(counts.older.isEmpty && counts.total(at: 2_000_000, width: width, window: window) == 1)
        #expect(counts.isStale(at: 2_700_000, width: width, window: window))
        #expect(BucketWindow(buckets: counts.buckets) == counts)
    }

    @Test func distinctWindowsCountValuesInTheWindow() {
        var values = DistinctWindow(1, at: 0)
        values.add(1, at: 10, window: 100)
        values.add(2, at: 20, window: 100)
        values.add(3, at: 90, window: 100)
        #expect(values.count(at: 90, window: 100) == 3)
        #expect(values.count(at: 115, window: 100) == 2)  // value 1, last seen at 10, has left
        #expect(values.contains(3, at: 115, window: 100) && !values.contains(1, at: 115, window: 100))
        #expect(DistinctWindow(seen: values.seen) == values)
    }

    /// A data path is read without building the rest of the object; the last of repeated keys
    /// counts, escaped keys match, and anything missing or not an object is nil.
    @Test func dataMembersByPath() {
        func member(_ path: [String], _ json: String) -> JSONValue? {
            Array(json.utf8).withUnsafeBufferPointer { JSONValue.member(at: path, in: $0) }
        }
        let json = #"{"a":{"b":[1,2],"c":{"d":"deep"}},"text":"one","te\u0078t":"two","n":3.5,"skip":{"x":[{}]}}"#
        #expect(member(["text"], json) == .string("two"))
        #expect(member(["a", "c", "d"], json) == .string("deep"))
        #expect(member(["a", "b"], json) == .array([.number(1), .number(2)]))
        #expect(member(["n"], json) == .number(3.5))
        #expect(member(["a", "b", "c"], json) == nil)
        #expect(member(["missing"], json) == nil)
        #expect(member(["text", "inner"], json) == nil)
        #expect(member(["a"], "[1]") == nil)
        #expect(member(["a"], "{}") == nil)
        #expect(member(["a"], #"{"a":"#) == nil)
    }
}

/// A classifier stand-in that says how often it was asked.
final class CountingScorer: TextScorer {
    let calls = Mutex(0)
    func scores(of text: String) -> [String: Double] {
        calls.withLock { $0 += 1 }
        return ["spam": text.contains("win") ? 0.9 : 0.1, "fraud": text.contains("card") ? 0.7 : 0]
    }
}

@Suite struct ClassifyTests {
    func compileWithClassifiers(_ source: String) throws(RuleErrors) -> RuleSet {
        var withClassifiers = context
        withClassifiers.classifiers = ["spam-model": true, "remote-policy": false]
        return try RuleSet.compile(files: [("rules/test.rules", source)], context: withClassifiers)
    }

    /// `classify` reads a built-in classifier's score; `and` asks it last, so events the other
    /// conditions rule out are never classified, and one event is classified once per text.
    @Test func classifyIsScoredLazilyAndOncePerEvent() throws {
        let rules = try compileWithClassifiers("""
            rule model_spam category spam severity low
            when classify("spam-model", event.data.text) > 0.8 and event.type == "message.sent"
            then signal

            rule model_fraud category fraud severity low
            when event.type == "message.sent" and classify("spam-model", event.data.text, "fraud") >= 0.7
              and classify("spam-model", event.data.text) > 0
            then signal
            """)
        let scorer = CountingScorer()
        var detector = Detector(rules: rules)
        detector.scorers = ["spam-model": scorer]
        func fired(_ type: String, _ text: String) -> Set<String> {
            let (parsed, body) = event(type, at: 1, data: #"{"text":"\#(text)"}"#)
            return Set(detector.process(parsed, body: body).hits.map(\.rule))
        }
        #expect(fired("message.sent", "win big") == ["model_spam"])
        #expect(fired("message.sent", "card win") == ["model_spam", "model_fraud"])
        #expect(fired("content.posted", "win big") == [])
        #expect(fired("message.sent", "hello") == [])
        // Three message events, each classified once (both rules, both categories); the post never.
        #expect(scorer.calls.withLock { $0 } == 3)
        // Without the classifier (a model not trained yet) classify is unknown: nothing fires.
        detector.scorers = [:]
        #expect(fired("message.sent", "win big") == [])
    }

    /// Written first, the classifier is still asked last: a cheap condition that fails spares it.
    @Test func andAsksTheClassifierLast() throws {
        let rules = try compileWithClassifiers("""
            rule r category spam severity low
            when classify("spam-model", event.data.text) > 0.5 and event.data.vip == true
            then signal
            """)
        let scorer = CountingScorer()
        var detector = Detector(rules: rules)
        detector.scorers = ["spam-model": scorer]
        let (plain, plainBody) = event("message.sent", at: 1, data: #"{"text":"win","vip":false}"#)
        #expect(detector.process(plain, body: plainBody).hits.isEmpty && scorer.calls.withLock { $0 } == 0)
        let (vip, vipBody) = event("message.sent", at: 2, data: #"{"text":"win","vip":true}"#)
        #expect(detector.process(vip, body: vipBody).hits.map(\.rule) == ["r"] && scorer.calls.withLock { $0 } == 1)
    }

    /// A served classifier is not asked during detection: the rule is evaluated as far as it can
    /// be, and if only the classifier's answer is missing it is reported pending with what is left
    /// (counters and fields as of the event), which the answers then decide.
    @Test func servedClassifiersLeaveTheRulePendingWithWhatIsLeft() throws {
        let rules = try compileWithClassifiers("""
            rule remote category spam severity low
            when event.type == "message.sent" and count(message.sent by event.actor within 1h) >= 2
              and (classify("remote-policy", event.data.text, "spam") > 0.8 or event.data.vip == true)
            then signal route queue "spam"

            rule remote_or_local category spam severity low
            when classify("remote-policy", event.data.text) >= 0.5 or classify("spam-model", event.data.text) >= 0.9
            then signal
            """)
        var detector = Detector(rules: rules)
        detector.scorers = ["spam-model": CountingScorer()]
        detector.servedClassifiers = ["remote-policy"]
        func evaluate(_ text: String, vip: Bool = false, at time: Int) -> Evaluation {
            let (parsed, body) = event("message.sent", at: time, data: #"{"text":"\#(text)","vip":\#(vip)}"#)
            return detector.process(parsed, body: body)
        }
        // The first message: the counter is 1, so `remote` is false whatever the model says;
        // `remote_or_local` waits for it (the built-in model scores "hello" 0.1, "win" 0.9).
        var first = evaluate("hello", at: 1)
        #expect(first.hits.isEmpty)
        #expect(first.pending.map(\.rule) == ["remote_or_local"])
        let question = ClassifierQuestion(classifier: "remote-policy", text: "hello")
        #expect(first.pending.first?.condition == .score(question, category: nil, comparison: ">=", threshold: 0.5))
        // The second: the counter holds, so `remote` waits too, and what is left is the model alone.
        let second = evaluate("hello", at: 2)
        let remote = try #require(second.pending.first { $0.rule == "remote" })
        #expect(remote.condition == .score(question, category: "spam", comparison: ">", threshold: 0.8))
        #expect(remote.effects.contains(.route(queue: "spam")))
        #expect(remote.explanation.components(separatedBy: "count = 2").count == 2, "\(remote.explanation)")
        #expect(remote.condition?.fires([question: ["spam": 0.93]]) == true)
        #expect(remote.condition?.fires([question: ["spam": 0.5, "fraud": 0.99]]) == false)
        #expect(remote.condition?.fires([:]) == false)
        #expect(remote.condition?.describe([question: ["spam": 0.93]]) == #"classify("remote-policy", "spam") = 0.93 > 0.8"#)
        // A VIP's message decides `remote` without the model.
        let vip = evaluate("hello", vip: true, at: 3)
        #expect(vip.hits.map(\.rule) == ["remote"] && !vip.pending.contains { $0.rule == "remote" })
        // The built-in model's "yes" decides `remote_or_local` at once.
        first = evaluate("win big", at: 4)
        #expect(first.hits.map(\.rule).contains("remote_or_local") && !first.pending.contains { $0.rule == "remote_or_local" })
        // The condition survives being stored.
        let stored = try JSONEncoder().encode(remote.condition)
        #expect(try JSONDecoder().decode(PendingCondition.self, from: stored) == remote.condition)
        // An unavailable served classifier is unknown, like an untrained model: nothing waits.
        detector.servedClassifiers = []
        #expect(evaluate("hello", at: 5).pending.isEmpty)
    }

    /// Hits that fire later, through the classification stage, count toward the rule's budget: the
    /// one over it demotes the rule, and the rule's next pending hits are shadow.
    @Test func lateHitsCountTowardTheBudget() throws {
        let rules = try compileWithClassifiers("""
            rule remote_warn category spam severity low budget 2 per hour
            when classify("remote-policy", event.data.text) > 0.5
            then signal action "warn"

            rule remote_note category spam severity low budget 1 per hour
            when classify("remote-policy", event.data.text) > 0.9
            then signal
            """)
        var detector = Detector(rules: rules)
        detector.servedClassifiers = ["remote-policy"]
        let warn = try #require(rules.rules.first { $0.name == "remote_warn" })
        let note = try #require(rules.rules.first { $0.name == "remote_note" })
        #expect(detector.countLateHit(rule: warn.name, version: warn.version, at: 1000) == nil)
        #expect(detector.countLateHit(rule: warn.name, version: warn.version, at: 2000) == nil)
        let third = detector.countLateHit(rule: warn.name, version: warn.version, at: 3000)
        #expect(third?.reason == "rule remote_warn demoted to shadow: 3 hits this hour exceed its budget of 2")
        #expect(third?.severity == "critical")
        #expect(detector.demoted["remote_warn"] != nil)
        // A rule that does not act has no budget to exceed; an unknown version is not counted.
        for time in [1000, 2000, 3000] { #expect(detector.countLateHit(rule: note.name, version: note.version, at: Int64(time)) == nil) }
        #expect(detector.countLateHit(rule: warn.name, version: "000000000000", at: 4000) == nil)
        // The demoted rule's next pending hit is shadow.
        let (parsed, body) = event("message.sent", at: 5, data: #"{"text":"hello"}"#)
        #expect(detector.process(parsed, body: body).pending.first { $0.rule == "remote_warn" }?.mode == .shadow)
    }

    @Test func classifyIsChecked() {
        func problems(_ condition: String) -> [String] {
            do {
                _ = try compileWithClassifiers("rule r category spam severity low when \(condition) then signal")
                return []
            } catch {
                return error.diagnostics.map(\.message)
            }
        }
        #expect(problems(#"classify("nope", event.data.text) > 0.5"#).first?.contains("there is no classifier nope") == true)
        // A served classifier answers later: only compared with a number, under and/or/not.
        #expect(problems(#"classify("remote-policy", event.data.text) > 0.5"#).isEmpty)
        #expect(problems(#"not (0.5 <= classify("remote-policy", event.data.text)) or event.data.vip == true"#).isEmpty)
        #expect(problems(#"classify("remote-policy", event.data.text) * 2 > 0.5"#).first?.contains("compare its score with a number") == true)
        #expect(problems(#"count(message.sent by event.actor within 1h where classify("remote-policy", event.data.text) > 0.5) > 2"#)
            .first?.contains("remote-policy is served over an API") == true)
        #expect(problems(#"classify("remote-policy", event.data.text) > classify("remote-policy", event.data.other)"#).count == 1)
        func effectProblems(_ effects: String) -> [String] {
            do {
                _ = try compileWithClassifiers(#"rule r category spam severity low when classify("remote-policy", event.data.text) > 0.5 then \#(effects)"#)
                return []
            } catch {
                return error.diagnostics.map(\.message)
            }
        }
        #expect(effectProblems(#"signal route queue "spam" action "warn""#).isEmpty)
        #expect(effectProblems("verdict block").first?.contains("cannot return a verdict") == true)
        #expect(effectProblems(#"label event.actor "spammer""#).first?.contains("not change labels") == true)
        #expect(problems("classify(event.data.text) > 0.5").first?.contains("takes 2 or 3 arguments") == true)
        #expect(problems(#"classify(event.data.kind, event.data.text) > 0.5"#).first?.contains("in double quotes") == true)
        #expect(problems(#"classify("spam-model", event.data.text, "nonsense") > 0.5"#).first?.contains("not in the taxonomy") == true)
    }
}
