import Testing
import WardenCore
@testable import WardenQuality

@Suite struct SessionTests {
    static let scale: Set<String> = ["none", "harassment", "spam"]
    static let lead: ActorRef = "user:lee"

    static func golden(_ count: Int, queue: String = "harassment") -> [GoldenItem] {
        (1...count).map { GoldenItem(id: Int64($0), caseID: nil, queue: queue, text: "item \($0)", answer: $0 % 3 == 0 ? "none" : "harassment",
                                     explanation: "reason \($0)", createdBy: "user:lee", createdAt: 0) }
    }

    static func items(_ answers: [String?]) -> [SessionItem] {
        answers.enumerated().map { SessionItem(number: $0 + 1, caseID: Int64($0 + 100), goldenID: nil, text: "text \($0)", gold: $1, explanation: nil) }
    }

    /// What refuses to make a session, with the message that says why.
    @Test(arguments: [
        ([], ["user:a", "user:b"], [String: [String]](), "at least one item"),
        ([nil], ["user:a"], [:], "at least two raters"),
        ([nil], ["user:a", "user:a"], [:], "named twice"),
        (Array(repeating: nil, count: 201), ["user:a", "user:b"], [:], "at most 200 items"),
        ([nil], (0..<51).map { "user:r\($0)" }, [:], "at most 50 raters"),
    ] as [([String?], [String], [String: [String]], String)])
    func calibrationRefusals(items: [String?], people: [String], models: [String: [String]], message: String) {
        let error = #expect(throws: QualityError.self) {
            _ = try SessionPlanner.calibration(id: 1, name: "x", queue: nil, items: Self.items(items), people: people, models: models, actor: Self.lead, now: 0)
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    /// A calibration session: models rate when it is made, people blind to each other until a lead
    /// closes it; a later rating replaces an earlier one; the discussion outlives the close.
    @Test func aCalibrationSessionIsBlindUntilClosed() throws {
        var (session, entry) = try SessionPlanner.calibration(id: 7, name: "Week 48", queue: "harassment", items: Self.items(["harassment", nil, nil]),
                                                              people: ["user:ana", "user:ben"], models: ["tox": ["harassment", "none", "spam"]],
                                                              actor: Self.lead, now: 10)
        #expect(entry.action == "session.create" && session.raters == ["user:ana", "user:ben", "model:tox"])
        #expect(session.ratings.count == 3 && session.ratings.allSatisfy { $0.rater == "model:tox" })
        func apply(_ command: SessionCommand, _ actor: ActorRef, lead: Bool = false) throws(QualityError) {
            session = try SessionPlanner.apply(command, to: session, actor: actor, isLead: lead, scale: Self.scale, nextNoteID: 1, now: 20).0
        }
        try apply(.rate(item: 1, answer: "none", notes: nil), "user:ana")
        try apply(.rate(item: 1, answer: "harassment", notes: "changed my mind"), "user:ana")
        try apply(.rate(item: 1, answer: "harassment", notes: nil), "user:ben")
        #expect(session.ratings.filter { $0.rater == "user:ana" }.map(\.answer) == ["harassment"])
        // Blind: ana sees only her own answer and no key.
        let (seen, key) = session.visible(to: "user:ana")
        #expect(seen.map(\.rater) == ["user:ana"] && key.isEmpty)
        #expect(session.visible(to: "user:lee").ratings.isEmpty)
        // Refusals, and nothing changes.
        let before = session
        for (command, actor, lead, kind) in [
            (SessionCommand.rate(item: 4, answer: "none", notes: nil), ActorRef(stringLiteral: "user:ana"), false, QualityError.Kind.invalid),
            (.rate(item: 2, answer: "scam", notes: nil), "user:ana", false, .invalid),
            (.rate(item: 2, answer: "none", notes: nil), "user:cat", false, .forbidden),
            (.close(outcome: nil), "user:ana", false, .forbidden),
            (.note(item: nil, text: "hi", article: nil), "user:cat", false, .forbidden),
            (.note(item: 9, text: "hi", article: nil), "user:ana", false, .invalid),
        ] {
            let error = #expect(throws: QualityError.self) { try apply(command, actor, lead: lead) }
            #expect(error?.kind == kind, "\(command): \(String(describing: error))")
        }
        #expect(session == before)
        try apply(.close(outcome: "Item 2 is harassment under 3.1; article harassment-basics updated"), Self.lead, lead: true)
        #expect(session.state == .closed && session.closedAt == 20)
        #expect(session.visible(to: "user:ana").ratings.count == 5 && session.visible(to: "user:ana").keyOf == [1, 2, 3])
        #expect(throws: QualityError.self) { try apply(.rate(item: 2, answer: "none", notes: nil), "user:ana") }
        #expect(throws: QualityError.self) { try apply(.close(outcome: nil), Self.lead, lead: true) }
        try apply(.note(item: 2, text: "we read 3.1 differently", article: "harassment-basics"), "user:ben")
        #expect(session.discussion.map(\.article) == ["harassment-basics"])

        let report = session.report(scale: SessionAnswer.scale(["harassment", "spam"]))
        #expect(report.raters == 3 && report.items == 3 && report.categories == ["none", "harassment", "spam"])
        // The key (item 1) is not a rater; each rater is checked against it where there is one.
        #expect(report.perRater.first { $0.name == "model:tox" }?.agreement.checked == 1)
    }

    /// Training: a queue's golden items drawn from a seed, the key after each answer, answers final,
    /// and the run closes and scores itself with its last answer, certifying at the threshold.
    @Test func trainingScoresAndCertifiesAtTheThreshold() throws {
        let golden = Self.golden(12) + Self.golden(3, queue: "spam").map { var g = $0; g.id += 100; return g }
        #expect(throws: QualityError.self) {
            _ = try SessionPlanner.training(id: 1, queue: "spam", golden: golden, count: 5, threshold: 0.8, seed: 1, actor: "user:ana", now: 0)
        }
        let (first, _) = try SessionPlanner.training(id: 1, queue: "harassment", golden: golden, count: 5, threshold: 0.8, seed: 42, actor: "user:ana", now: 0)
        let (again, _) = try SessionPlanner.training(id: 1, queue: "harassment", golden: golden, count: 5, threshold: 0.8, seed: 42, actor: "user:ana", now: 0)
        #expect(first == again && first.items.count == 5 && Set(first.items.compactMap(\.goldenID)).count == 5)
        #expect(first.items.allSatisfy { ($0.goldenID ?? 0) <= 12 })

        for (wrong, passes) in [(1, true), (2, false)] {
            var session = first
            var certification: Certification?
            for item in session.items {
                let answer = item.number <= wrong ? (item.gold == "none" ? "spam" : "none") : item.gold!
                #expect(session.visible(to: "user:ana").keyOf.contains(item.number) == false)
                let (next, entry, earned) = try SessionPlanner.apply(.rate(item: item.number, answer: answer, notes: nil), to: session, actor: "user:ana",
                                                                     isLead: false, scale: Self.scale, nextNoteID: 1, now: Int64(item.number))
                session = next
                certification = earned
                #expect(session.visible(to: "user:ana").keyOf.contains(item.number))  // feedback after each
                #expect(entry.action == (item.number == 5 ? "training.finish" : "session.rate"))
                #expect(throws: QualityError.self) {
                    _ = try SessionPlanner.apply(.rate(item: item.number, answer: answer, notes: nil), to: session, actor: "user:ana",
                                                 isLead: false, scale: Self.scale, nextNoteID: 1, now: 9)
                }
            }
            #expect(session.state == .closed && session.score == (5 - wrong, 5) && session.passed == passes)
            #expect((certification != nil) == passes)
            if let certification { #expect(certification.user == "user:ana" && certification.queue == "harassment" && certification.score == 0.8) }
        }
        // A lead does not close a training run by hand.
        #expect(throws: QualityError.self) {
            _ = try SessionPlanner.apply(.close(outcome: nil), to: first, actor: Self.lead, isLead: true, scale: Self.scale, nextNoteID: 1, now: 1)
        }
    }

    /// The simulation as a calibration session: reviewers of known accuracy (95 %, 85 %, and a
    /// vendor at 75 % on harassment) rate 198 golden items; each one's measured agreement with the key
    /// holds their true accuracy inside its interval, and the vendor's harassment cell is flagged
    /// while the 95 % reviewer is not.
    @Test func aCalibrationSessionRecoversKnownAccuracies() throws {
        var random = SplitMix64(seed: 2026)
        func chance() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        let categories = ["none", "harassment", "spam"]
        let golds = (0..<198).map { categories[$0 % 3] }
        var (session, _) = try SessionPlanner.calibration(id: 1, name: "sim", queue: nil, items: Self.items(golds),
                                                          people: ["user:a95", "user:b85", "user:vendor"], models: [:], actor: Self.lead, now: 0)
        let accuracy: [String: (String) -> Double] = ["user:a95": { _ in 0.95 }, "user:b85": { _ in 0.85 },
                                                      "user:vendor": { $0 == "harassment" ? 0.75 : 0.95 }]
        for rater in session.raters {
            for item in session.items {
                let gold = item.gold!
                let answer = chance() < accuracy[rater]!(gold) ? gold : categories.filter { $0 != gold }[Int(random.next() % 2)]
                session = try SessionPlanner.apply(.rate(item: item.number, answer: answer, notes: nil), to: session, actor: ActorRef(parsing: rater)!,
                                                   isLead: false, scale: Self.scale, nextNoteID: 1, now: 1).0
            }
        }
        let report = session.report(target: 0.93, scale: categories)
        for (rater, truth) in [("user:a95", 0.95), ("user:b85", 0.85), ("user:vendor", (0.75 + 0.95 + 0.95) / 3)] {
            let row = try #require(report.perRater.first { $0.name == rater })
            let interval = try #require(row.agreement.interval)
            #expect(row.agreement.checked == 198)
            #expect(interval.lower <= truth && truth <= interval.upper, "\(rater): \(interval) misses \(truth)")
        }
        let vendorHarassment = try #require(report.perRater.first { $0.name == "user:vendor" }?.byCategory.first { $0.group == "harassment" })
        let interval = try #require(vendorHarassment.interval)
        #expect(interval.lower <= 0.75 && 0.75 <= interval.upper)
        #expect(report.flags.contains { $0.rater == "user:vendor" && $0.category == "harassment" })
        #expect(!report.flags.contains { $0.rater == "user:a95" })
        #expect(!report.flags.contains { $0.rater == "user:vendor" && $0.category == "spam" })
    }
}
