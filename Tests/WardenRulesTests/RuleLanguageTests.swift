import Synchronization
import Testing
import WardenCore
@testable import WardenRules

let context = RuleContext(
    categories: ["spam", "spam.fake_accounts", "spam.links", "fraud", "fraud.card_testing", "harassment", "harassment.bullying"],
    severities: ["low", "medium", "high", "critical"], entityTypes: EntityTypes(),
    readList: { path in path == "lists/spam_domains.txt" ? "# known spam\ncheap-pills.example\nprize-claim.example  # lure\n" : nil })

func compile(_ source: String) throws(RuleErrors) -> RuleSet {
    try RuleSet.compile(files: [("rules/test.rules", source)], context: context)
}

func errors(_ source: String) -> [String] {
    do {
        _ = try compile(source)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

let schema = EventSchema(reportReasons: ["harassment.bullying"])
let serial = Atomic<Int>(0)

func event(_ type: String, actor: String = "u1", at second: Int, entities: String = #""ip":"203.0.113.7""#, data: String = "{}") -> (ParsedEvent, [UInt8]) {
    let number = serial.add(1, ordering: .relaxed).newValue
    let time = Timestamp.formatRFC3339(1_795_428_000_000 + Int64(second) * 1000)
    let json = Array(#"{"id":"e\#(number)","type":"\#(type)","occurred_at":"\#(time)","actor":{"type":"user","id":"\#(actor)"},"entities":{\#(entities)},"data":\#(data)}"#.utf8)
    let parsed = try! json.withUnsafeBufferPointer { buffer throws(EventError) in try schema.parse(buffer, now: 1_795_428_000_000 + 86_400_000) }
    return (parsed, json)
}

@Suite struct RuleLanguageTests {
    static let farm = """
        # Many sign-ups from one IP.
        rule signup_farm_ip
          "Many sign-ups from one IP address in ten minutes"
          category spam.fake_accounts
          severity high
          mode active
          owner "trust-ops"
        when event.type == "account.created"
         and count(account.created by event.ip within 10m) > 3
        then signal subject event.actor
             label event.ip "signup_farm" for 24h
             verdict challenge
        """

    @Test func velocityRuleFiresOnTheFourthSignUpAndLabels() throws {
        var detector = Detector(rules: try compile(Self.farm))
        var fired: [Int] = []
        for index in 0..<6 {
            let (parsed, body) = event("account.created", actor: "f\(index)", at: index * 30)
            let evaluation = detector.process(parsed, body: body)
            if !evaluation.hits.isEmpty {
                fired.append(index)
                #expect(evaluation.verdict == .challenge)
                #expect(evaluation.hits[0].effects.contains(.label(EntityRef(type: "ip", id: "203.0.113.7"), "signup_farm",
                                                                   expiresAt: parsed.occurredAt + 86_400_000)))
                #expect(evaluation.hits[0].explanation.contains("count"))
            }
        }
        #expect(fired == [3, 4, 5])
        #expect(detector.labels[EntityRef(type: "ip", id: "203.0.113.7")]?["signup_farm"] != nil)
    }

    @Test func windowsSlide() throws {
        var detector = Detector(rules: try compile(Self.farm))
        for index in 0..<3 { _ = detector.process(event("account.created", actor: "a\(index)", at: index).0, body: event("x", at: 0).1) }
        // Eleven minutes later the first three have left the window.
        let (late, body) = event("account.created", actor: "b", at: 11 * 60)
        #expect(detector.process(late, body: body).hits.isEmpty)
    }

    @Test func shadowRulesFireWithoutEffects() throws {
        var detector = Detector(rules: try compile(Self.farm.replacingOccurrences(of: "mode active", with: "mode shadow")))
        var last: Evaluation?
        for index in 0..<5 {
            let (parsed, body) = event("account.created", actor: "s\(index)", at: index)
            last = detector.process(parsed, body: body)
        }
        #expect(last?.hits.first?.mode == .shadow)
        #expect(last?.verdict == .allow)
        #expect(detector.labels.isEmpty)
    }

    @Test func stringListAndDataTests() throws {
        let rules = try compile("""
            list spam_domains from "lists/spam_domains.txt"
            rule spam_link "Links to known spam domains" category spam.links
            when event.type == "message.sent" and domains(event.data.text) in spam_domains
            then signal
            rule free_money "Leetspeak free money" category spam
            when normalize(event.data.text) contains "free money" or event.data.text matches "(?i)^win [0-9]+"
            then signal severity medium
            rule big_amount "Large payment" category fraud
            when event.data.amount >= 1000 and event.data.currency in ["USD", "EUR"]
            then signal
            """)
        var detector = Detector(rules: rules)
        func names(_ data: String, type: String = "message.sent") -> [String] {
            let (parsed, body) = event(type, at: 0, data: data)
            return detector.process(parsed, body: body).hits.map(\.rule)
        }
        #expect(names(#"{"text":"buy now at https://www.Cheap-Pills.example/x?y=1."}"#) == ["spam_link"])
        #expect(names(#"{"text":"FR33 M0NEY!!"}"#) == ["free_money"])
        #expect(names(#"{"text":"Win 500 dollars"}"#) == ["free_money"])
        #expect(names(#"{"text":"see you at the park"}"#) == [])
        #expect(names(#"{"amount":2500,"currency":"USD"}"#, type: "payment.attempted") == ["big_amount"])
        #expect(names(#"{"amount":2500,"currency":"GBP"}"#, type: "payment.attempted") == [])
    }

    @Test func missingFieldsNeverMakeARuleFireThroughNot() throws {
        var detector = Detector(rules: try compile("""
            rule no_text "Messages without text" category spam
            when event.type == "message.sent" and not (event.data.text contains "hello")
            then signal
            rule explicit_null "Explicitly missing" category spam
            when event.data.text == null
            then signal
            """))
        let (parsed, body) = event("message.sent", at: 0, data: "{}")
        #expect(detector.process(parsed, body: body).hits.map(\.rule) == ["explicit_null"])
        let (withText, textBody) = event("message.sent", at: 1, data: #"{"text":"bye"}"#)
        #expect(detector.process(withText, body: textBody).hits.map(\.rule) == ["no_text"])
    }

    @Test func distinctSumAgeAndLabelsWithAge() throws {
        var detector = Detector(rules: try compile("""
            rule card_testing "Many cards from one user" category fraud.card_testing
            when event.type == "payment.attempted" and distinct(event.card by event.actor within 1h) >= 3
             and sum(event.data.amount by event.actor within 1h) < 10
            then signal
                 label event.actor "card_tester"
            rule young_and_flagged "A new account already flagged" category fraud
            when age(event.actor) < 1d and event.actor has label "card_tester" older than 1m
            then signal severity critical
            """))
        var hits: [[String]] = []
        for index in 0..<4 {
            let (parsed, body) = event("payment.attempted", actor: "c", at: index * 60, entities: #""card":"k\#(index)""#, data: #"{"amount":1.5}"#)
            hits.append(detector.process(parsed, body: body).hits.map(\.rule))
        }
        #expect(hits == [[], [], ["card_testing"], ["card_testing", "young_and_flagged"]])
    }

    @Test func reportsEveryErrorWithItsPlace() {
        let problems = errors("""
            rule a "x" category spam.fake_acounts
            when event.tpye == "x" and count(by event.ip within 10m) > 1
            then signal

            rule b category spam
            when event.data.text matches "(a+)+$" and lower(event.data.text, 2) == "x"
            then verdict maybe

            rule c category spam
            when event.type == "x"
            then

            rule a category spam
            when event.type in nosuchlist
            then signal
            """)
        #expect(problems.count == 8, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:1:") && $0.contains("did you mean spam.fake_accounts") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:2:") && $0.contains("event.tpye") && $0.contains("did you mean type") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:6:") && $0.contains("exponential") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:6:") && $0.contains("takes 1 argument") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:7:") && $0.contains("allow, challenge or block") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:11:") && $0.contains("needs at least one effect") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:13:") && $0.contains("already defined") })
        #expect(problems.contains { $0.hasPrefix("rules/test.rules:14:") && $0.contains("no list named nosuchlist") })
    }

    @Test func syntaxErrorsRecoverAtTheNextRule() {
        let problems = errors("""
            rule a category spam when event.type == then signal
            rule b category spam when (event.type == "x" then signal
            rule c category spam when event.type == "x" then signal
            """)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems[0].hasPrefix("rules/test.rules:1:"))
        #expect(problems[1].hasPrefix("rules/test.rules:2:"))
    }

    @Test func versionsFollowTheRuleText() throws {
        let one = try compile(Self.farm).rules[0].version
        let same = try compile("\n\n" + Self.farm).rules[0].version
        let changed = try compile(Self.farm.replacingOccurrences(of: "> 3", with: "> 4")).rules[0].version
        #expect(one == same)
        #expect(one != changed)
    }

    @Test func peekAnswersExactlyWhatProcessingWouldDo() throws {
        let rules = try compile(Self.farm + """

            rule cards "Many cards" category fraud.card_testing
            when event.type == "payment.attempted" and distinct(event.card by event.actor within 1h) >= 3
             and sum(event.data.amount by event.actor within 1h) < 20 and age(event.actor) < 1h
            then signal
                 label event.actor "card_tester"
            rule flagged "Labelled" category fraud
            when event.actor has label "card_tester" then signal
            """)
        var detector = Detector(rules: rules)
        var hitsSeen = 0
        for index in 0..<300 {
            let (parsed, body) = index % 3 == 0
                ? event("account.created", actor: "u\(index % 7)", at: index * 20, entities: #""ip":"198.51.100.\#(index % 4)""#)
                : event("payment.attempted", actor: "u\(index % 5)", at: index * 20, entities: #""card":"c\#(index % 11)""#, data: #"{"amount":\#(index % 4)}"#)
            let peeked = detector.peek(parsed, body: body)
            let processed = detector.process(parsed, body: body)
            #expect(peeked == processed, "event \(index)")
            hitsSeen += processed.hits.count
        }
        #expect(hitsSeen > 10)
    }

    @Test func theSafetyValveDemotesARuleOverItsBudgetAndRaisesAnAlert() throws {
        var detector = Detector(rules: try compile("""
            rule blocker "Blocks every login" category spam budget 3 per hour
            when event.type == "session.login" then verdict block
            """))
        var verdicts: [Verdict] = []
        var alerts: [String] = []
        for index in 0..<6 {
            let (parsed, body) = event("session.login", at: index)
            let evaluation = detector.process(parsed, body: body)
            verdicts.append(evaluation.verdict)
            alerts += evaluation.hits.filter { $0.rule == "safety_valve" }.map(\.explanation)
            #expect(evaluation.hits.filter { $0.rule == "blocker" }.count == 1)
        }
        #expect(verdicts == [.block, .block, .block, .allow, .allow, .allow])
        #expect(alerts == ["rule blocker demoted to shadow: 4 hits this hour exceed its budget of 3"])
        #expect(detector.demoted["blocker"] != nil)
    }

    @Test func arbitraryInputNeverCrashesTheParserOrChecker() {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return z ^ (z >> 27)
        }
        let alphabet = Array("rule when then and or not ( ) [ ] \" , . == != < > 10m 5 event.type event.data.x count by within where signal label verdict block category spam \n # in has label older than matches contains -")
        let words = ["rule", "when", "then", "event", ".", "type", "count(", "by", "within", "10m", ")", "\"x\"", "==", "and", "or", "not", "(", "[", "]", "signal", "category", "spam", "\n", "label", "for", "1h"]
        for round in 0..<3000 {
            var source = ""
            if round % 2 == 0 {
                for _ in 0..<Int(next() % 200) { source.append(alphabet[Int(next() % UInt64(alphabet.count))]) }
            } else {
                for _ in 0..<Int(next() % 60) { source += words[Int(next() % UInt64(words.count))] + " " }
            }
            _ = errors(source)
        }
        _ = errors(String(repeating: "(", count: 10_000))
        _ = errors("rule a category spam when " + String(repeating: "not ", count: 10_000) + "true then signal")
        _ = errors(String(repeating: "\"", count: 5000))
    }
}

@Suite struct RuleSourceTests {
    @Test func settingTheModeReplacesOrAddsTheModeLine() {
        let withMode = "rule r\n  \"d\"\n  category spam\n  mode active\nwhen event.type == \"x\"\nthen signal subject event.actor"
        #expect(RuleSource.settingMode(withMode, to: .shadow) == withMode.replacingOccurrences(of: "mode active", with: "mode shadow"))
        let without = "rule r\n  category spam\nwhen event.type == \"x\"\nthen signal subject event.actor"
        #expect(RuleSource.settingMode(without, to: .shadow) == "rule r\n  category spam\n  mode shadow\nwhen event.type == \"x\"\nthen signal subject event.actor")
        let modeInCondition = "rule r\nwhen event.data.mode == \"x\"\nthen signal subject event.actor"
        #expect(RuleSource.settingMode(modeInCondition, to: .active).hasPrefix("rule r\n  mode active\nwhen"))
    }
}

/// Rules that read live lookups: hash banks (`hash_distance`) and derived tables (`list … from query`).
@Suite struct LookupRuleTests {
    struct Lookups: RuleLookups {
        var banks: [String: [String: Int]] = [:]
        var derived: [String: Set<String>] = [:]
        func hashDistance(bank: String, hash: String) -> Int? { banks[bank]?[hash] }
        func derivedList(_ query: String, contains item: String) -> Bool? { derived[query]?.contains(item) }
    }

    static let source = """
        list risky from query "risky-accounts"

        rule banked
          "A banked image"
          category spam
          severity high
          mode active
        when event.type == "media.uploaded" and hash_distance("known", event.data.pdq) <= 31
        then signal subject event.actor

        rule risky_payer
          "A risky account pays"
          category fraud
          severity medium
          mode active
        when event.type == "payment.attempted" and event.actor in risky
        then signal subject event.actor
        """

    @Test func matchesAndListsAreReadLiveAndUnknownWithoutThem() throws {
        let rules = try compile(Self.source)
        func fired(_ lookups: Lookups?, _ type: String, actor: String = "u1", data: String = "{}") -> [String] {
            var detector = Detector(rules: rules)
            detector.lookups = lookups
            let (parsed, body) = event(type, actor: actor, at: 0, data: data)
            return detector.process(parsed, body: body).hits.map(\.rule)
        }
        let lookups = Lookups(banks: ["known": ["aa": 4, "bb": 40]], derived: ["risky-accounts": ["mallory"]])
        #expect(fired(lookups, "media.uploaded", data: #"{"pdq":"aa"}"#) == ["banked"])
        #expect(fired(lookups, "media.uploaded", data: #"{"pdq":"bb"}"#).isEmpty)
        #expect(fired(lookups, "media.uploaded", data: #"{"pdq":"cc"}"#).isEmpty)
        #expect(fired(lookups, "media.uploaded").isEmpty)
        #expect(fired(nil, "media.uploaded", data: #"{"pdq":"aa"}"#).isEmpty)
        // The list compares without regard to case; a table not materialised is unknown.
        #expect(fired(lookups, "payment.attempted", actor: "Mallory") == ["risky_payer"])
        #expect(fired(lookups, "payment.attempted", actor: "alice").isEmpty)
        #expect(fired(Lookups(), "payment.attempted", actor: "mallory").isEmpty)
    }

    @Test func badBankAndQueryNamesAreReportedWhereWritten() {
        #expect(errors("""
            list risky from query "Not A Name"
            rule r "x" category spam severity low mode active
            when hash_distance(event.data.bank, event.data.pdq) < 3 or hash_distance("Bad Bank", event.data.pdq) < 3
            then signal subject event.actor
            """) == [
                #"rules/test.rules:1:1: "Not A Name" is not a saved query's name (1 to 64 lower-case letters, digits, - and _, starting with a letter)"#,
                "rules/test.rules:3:6: hash_distance(…) names its bank in double quotes, such as hash_distance(\"known-images\", event.data.pdq)",
                #"rules/test.rules:3:74: "Bad Bank" is not a bank's name (1 to 64 lower-case letters, digits, - and _, starting with a letter)"#,
            ])
    }
}
