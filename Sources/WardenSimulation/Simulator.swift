import Foundation
import WardenCore

/// Settings for a simulation run.
public struct SimulationOptions: Sendable {
    /// The seed; the same seed and options always give the same events.
    public var seed: UInt64 = 42
    /// Simulated time of the first event (ms since the epoch).
    public var start: Int64
    /// Length of one cycle; every cycle runs each enabled campaign once.
    public var cycleMillis: Int64 = 3_600_000
    /// Normal (benign) events per simulated second.
    public var rate: Double = 20
    /// Users that exist before the simulation starts.
    public var users: Int = 2000
    /// The campaigns to inject.
    public var campaigns: [Campaign] = Campaign.allCases
    /// The daily rhythm of normal traffic: 0 is flat; 0.6 swings the rate between 40 % and 160 %
    /// of `rate` over each UTC day (lowest at 04:00, highest at 16:00), as a product's users sleep and wake.
    public var dailyRhythm: Double = 0

    /// Options starting at `start`.
    public init(start: Int64) {
        self.start = start
    }
}

/// One simulated event: its NDJSON text and, for campaign events, the ground truth.
public struct SimulatedEvent: Sendable {
    /// The event id.
    public var id: String
    /// When it happens (ms since the epoch).
    public var occurredAt: Int64
    /// The event as one JSON line (no newline).
    public var json: [UInt8]
    /// Ground-truth records: the event's campaign membership, and a campaign record for a campaign's first event.
    public var truth: [TruthRecord]
}

/// A deterministic traffic generator for a product with users, messages, content, payments and an
/// API: normal behaviour with abuse campaigns injected once per cycle. It is an endless sequence
/// in time order; callers stop it by count or by time.
public struct Simulator: Sendable, IteratorProtocol {
    private let options: SimulationOptions
    private var random: SplitMix64
    private var userCount: Int
    private var serial = 0
    private var second: Int64 = 0
    private var ready: [SimulatedEvent] = []
    private var readyIndex = 0
    private var scheduled: [SimulatedEvent] = []
    private var startedCampaigns = Set<String>()
    private let runID: String

    /// Creates a simulator.
    public init(options: SimulationOptions) {
        self.options = options
        // Event ids carry a fingerprint of the options, so replaying one run gives duplicates while
        // runs with other options never collide with it.
        var fingerprint: UInt64 = 0xCBF2_9CE4_8422_2325
        let description = "\(options.seed)|\(options.start)|\(options.cycleMillis)|\(options.rate)|\(options.users)|"
            + options.campaigns.map(\.rawValue).joined(separator: ",") + (options.dailyRhythm == 0 ? "" : "|\(options.dailyRhythm)")
        for byte in description.utf8 {
            fingerprint = (fingerprint ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        runID = String(fingerprint % (1 << 40), radix: 36)
        random = SplitMix64(seed: options.seed)
        userCount = max(options.users, 10)
    }

    /// The next event in time order.
    public mutating func next() -> SimulatedEvent? {
        while readyIndex >= ready.count {
            generateNextSecond()
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    // MARK: - Scheduling

    private mutating func generateNextSecond() {
        let secondStart = options.start + second * 1000
        let secondEnd = secondStart + 1000
        second += 1
        startDueCampaigns(before: secondEnd)

        var batch: [SimulatedEvent] = []
        let rate = Self.rate(options, at: secondStart)
        let whole = Int(rate)
        let count = whole + (random.chance(rate - Double(whole)) ? 1 : 0)
        for _ in 0..<count {
            batch.append(normalEvent(at: secondStart + Int64(random.below(1000))))
        }
        if let split = scheduled.firstIndex(where: { $0.occurredAt >= secondEnd }) {
            batch.append(contentsOf: scheduled[..<split])
            scheduled.removeFirst(split)
        } else {
            batch.append(contentsOf: scheduled)
            scheduled.removeAll()
        }
        batch.sort { $0.occurredAt < $1.occurredAt }
        ready = batch
        readyIndex = 0
    }

    /// Normal events per second at `time`, with the daily rhythm.
    static func rate(_ options: SimulationOptions, at time: Int64) -> Double {
        guard options.dailyRhythm != 0 else { return options.rate }
        let dayFraction = Double(((time % 86_400_000) + 86_400_000) % 86_400_000) / 86_400_000
        // Lowest at 04:00 UTC, highest at 16:00.
        let phase = 2 * Double.pi * (dayFraction - 10.0 / 24)
        return max(0, options.rate * (1 + options.dailyRhythm * sin(phase)))
    }

    private mutating func startDueCampaigns(before end: Int64) {
        let elapsed = end - options.start
        let cycle = Int((elapsed - 1) / options.cycleMillis)
        let cycleStart = options.start + Int64(cycle) * options.cycleMillis
        for campaign in options.campaigns {
            let at = cycleStart + Int64(campaign.startFraction * Double(options.cycleMillis))
            guard at < end, !startedCampaigns.contains("\(campaign.rawValue)#\(cycle)") else { continue }
            startedCampaigns.insert("\(campaign.rawValue)#\(cycle)")
            var events = campaignEvents(campaign, cycle: cycle, start: max(at, end - 1000))
            events.sort { $0.occurredAt < $1.occurredAt }
            if !events.isEmpty {
                let subjects = Array(Set(events.flatMap { $0.truth.flatMap(\.subjects) })).sorted()
                events[0].truth.insert(
                    TruthRecord(kind: "campaign", campaign: campaign, cycle: cycle, subjects: subjects, startedAt: events[0].occurredAt),
                    at: 0)
            }
            scheduled.append(contentsOf: events)
            scheduled.sort { $0.occurredAt < $1.occurredAt }
        }
    }

    // MARK: - Entities

    private func hash(_ value: Int, _ salt: UInt64) -> UInt64 {
        var mixer = SplitMix64(seed: options.seed ^ salt ^ UInt64(truncatingIfNeeded: value) &* 0x9E37_79B9)
        return mixer.next()
    }

    private func user(_ index: Int) -> String { "u\(index)" }

    private func ip(forUser index: Int) -> String {
        let bits = hash(index, 0x1A)
        return "\(11 + bits % 200).\(bits >> 8 & 0xFF).\(bits >> 16 & 0xFF).\(1 + (bits >> 24) % 254)"
    }

    private func device(forUser index: Int) -> String { "d" + String(hash(index, 0x2B) % 1_000_000_000, radix: 36) }

    private func card(forUser index: Int) -> String { "card_" + String(hash(index, 0x3C) % 100_000_000, radix: 36) }

    private func apiKey(forUser index: Int) -> String { "key_" + String(hash(index / 20, 0x4D) % 100_000_000, radix: 36) }

    private func org(forUser index: Int) -> String { "org\(index / 20)" }

    private static let emailDomains = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "fastmail.com"]
    private static let countries = ["US", "GB", "DE", "FR", "IN", "BR", "NG", "JP", "CA", "ES"]
    private static let greetings = ["hey", "hi", "hello", "morning", "yo", "thanks", "ok", "sure", "lol"]
    private static let phrases = [
        "are we still on for tomorrow?", "sent you the photos from the trip", "can you review my draft",
        "the meeting moved to 3pm", "great game last night", "did you see the new episode",
        "I'll pick up groceries", "happy birthday!", "let me know when you land", "that recipe was amazing",
        "running 10 minutes late", "check out this song I found", "thanks for your help today",
        "what time works for you?", "the package arrived", "good luck with the interview",
    ]
    private static let posts = [
        "Sunset at the beach today", "My first sourdough loaf", "Weekend hike photos", "New desk setup",
        "Reading list for the winter", "Our cat discovered the printer", "Finished my first marathon",
        "Trying out a new watercolor technique", "Garden update: tomatoes are in",
    ]
    private static let endpoints = ["/v1/search", "/v1/messages", "/v1/profile", "/v1/feed", "/v1/uploads"]

    // MARK: - Normal traffic

    private mutating func normalEvent(at time: Int64) -> SimulatedEvent {
        let roll = random.below(100)
        let actorIndex = random.below(userCount)
        switch roll {
        case 0..<40:
            var recipient = random.below(userCount)
            if recipient == actorIndex { recipient = (recipient + 1) % userCount }
            let text = random.pick(Self.greetings) + " " + random.pick(Self.phrases)
            return event("message.sent", time, actor: actorIndex,
                         entities: [("ip", ip(forUser: actorIndex)), ("device", device(forUser: actorIndex))],
                         data: [("text", .text(text)), ("recipient", .text(user(recipient)))])
        case 40..<55:
            return event("session.login", time, actor: actorIndex,
                         entities: [("ip", ip(forUser: actorIndex)), ("device", device(forUser: actorIndex))],
                         data: [("success", .flag(random.chance(0.97))), ("method", .text(random.chance(0.8) ? "password" : "sso"))])
        case 55..<70:
            serial += 1
            return event("content.posted", time, actor: actorIndex,
                         entities: [("content", "c\(options.seed)-\(serial)"), ("ip", ip(forUser: actorIndex))],
                         data: [("text", .text(random.pick(Self.posts))), ("visibility", .text(random.chance(0.7) ? "public" : "friends"))])
        case 70..<85:
            return event("api.request", time, actor: actorIndex,
                         entities: [("api_key", apiKey(forUser: actorIndex)), ("org", org(forUser: actorIndex)), ("ip", ip(forUser: actorIndex))],
                         data: [("endpoint", .text(random.pick(Self.endpoints))), ("status", .int(random.chance(0.98) ? 200 : 500))])
        case 85..<93:
            let amount = Double(500 + random.below(20_000)) / 100
            return event("payment.attempted", time, actor: actorIndex,
                         entities: [("card", card(forUser: actorIndex)), ("ip", ip(forUser: actorIndex))],
                         data: [("amount", .amount(amount)), ("currency", .text("USD")), ("status", .text(random.chance(0.96) ? "approved" : "declined"))])
        case 93..<99:
            let index = userCount
            userCount += 1
            return event("account.created", time, actor: index,
                         entities: [("ip", ip(forUser: index)), ("device", device(forUser: index)), ("email_domain", random.pick(Self.emailDomains))],
                         data: [("country", .text(random.pick(Self.countries)))])
        default:
            var subject = random.below(userCount)
            if subject == actorIndex { subject = (subject + 1) % userCount }
            return report(time, reporter: user(actorIndex), subject: user(subject),
                          reason: random.chance(0.5) ? "spam" : "harassment", text: "this seems off", truth: [])
        }
    }

    // MARK: - Campaigns

    private mutating func campaignEvents(_ campaign: Campaign, cycle: Int, start: Int64) -> [SimulatedEvent] {
        let tag = "\(options.seed)x\(cycle)"
        var events: [SimulatedEvent] = []
        func within(_ millis: Int64) -> Int64 { start + Int64(random.below(Int(millis))) }
        func truth(_ subjects: [String]) -> [TruthRecord] {
            [TruthRecord(kind: "event", campaign: campaign, cycle: cycle, subjects: subjects)]
        }

        switch campaign {
        case .signupFarm:
            let ips = (0..<2).map { "198.51.100.\(10 + ($0 + cycle * 2) % 240)" }
            let devices = (0..<3).map { "farmdev-\(tag)-\($0)" }
            for index in 0..<60 {
                let account = "farm\(tag)_\(index)"
                let ip = ips[index % ips.count]
                let device = devices[random.below(devices.count)]
                events.append(event("account.created", within(8 * 60_000), actorID: account,
                                    entities: [("ip", ip), ("device", device), ("email_domain", "mailinator.example")],
                                    data: [("country", .text(random.pick(Self.countries)))],
                                    truth: truth(["user:\(account)", "ip:\(ip)", "device:\(device)"])))
            }
        case .linkSpam:
            for index in 0..<20 {
                let account = "spam\(tag)_\(index)"
                let ip = "203.0.113.\(1 + (index + cycle * 20) % 250)"
                let joined = within(5 * 60_000)
                events.append(event("account.created", joined, actorID: account,
                                    entities: [("ip", ip), ("device", "spamdev-\(tag)-\(index)"), ("email_domain", random.pick(Self.emailDomains))],
                                    data: [("country", .text("US"))], truth: truth(["user:\(account)"])))
                for message in 0..<12 {
                    let link = "http://cheap-pills.example/buy?ref=\(index)x\(message)"
                    let text = random.pick(["Best prices online!! ", "Limited offer: ", "Don't miss out -> "]) + link
                    events.append(event("message.sent", joined + 30_000 + Int64(random.below(10 * 60_000)), actorID: account,
                                        entities: [("ip", ip), ("device", "spamdev-\(tag)-\(index)")],
                                        data: [("text", .text(text)), ("recipient", .text(user(random.below(userCount))))],
                                        truth: truth(["user:\(account)"])))
                }
            }
        case .harassmentPileOn:
            let victim = random.below(userCount)
            var attackers: [Int] = []
            while attackers.count < 12 {
                let candidate = random.below(userCount)
                if candidate != victim, !attackers.contains(candidate) { attackers.append(candidate) }
            }
            let insults = ["nobody wants you here, leave", "you are pathetic and everyone knows it",
                           "delete your account loser", "we will make sure you regret posting", "what an idiot, log off forever"]
            var firstMessage: [Int: Int64] = [:]
            for attacker in attackers {
                for _ in 0..<(2 + random.below(3)) {
                    let time = within(30 * 60_000)
                    firstMessage[attacker] = min(firstMessage[attacker] ?? .max, time)
                    events.append(event("message.sent", time, actor: attacker,
                                        entities: [("ip", ip(forUser: attacker)), ("device", device(forUser: attacker))],
                                        data: [("text", .text(random.pick(insults))), ("recipient", .text(user(victim)))],
                                        truth: truth([user(attacker)].map { "user:\($0)" })))
                }
            }
            let reporters = [victim] + (0..<5).map { (victim + 1 + $0 * 7) % userCount }
            for attacker in attackers {
                for reporter in reporters where random.chance(0.5) || reporter == victim {
                    let time = (firstMessage[attacker] ?? start) + 60_000 + Int64(random.below(20 * 60_000))
                    events.append(report(time, reporter: user(reporter), subject: user(attacker), reason: "harassment.bullying",
                                         text: "they keep sending abusive messages to \(user(victim))", truth: truth(["user:\(user(attacker))"])))
                }
            }
        case .cardTesting:
            let fraudster = "carder\(tag)"
            let ip = "192.0.2.\(1 + cycle % 250)"
            let cards = (0..<45).map { "card_test\(tag)_\($0)" }
            for attempt in 0..<60 {
                let card = cards[attempt < 45 ? attempt : random.below(cards.count)]
                let amount = Double(50 + random.below(150)) / 100
                events.append(event("payment.attempted", within(10 * 60_000), actorID: fraudster,
                                    entities: [("card", card), ("ip", ip), ("device", "carddev-\(tag)")],
                                    data: [("amount", .amount(amount)), ("currency", .text("USD")), ("status", .text(random.chance(0.85) ? "declined" : "approved"))],
                                    truth: truth(["user:\(fraudster)", "ip:\(ip)"])))
            }
        case .apiAbuse:
            let owner = random.below(userCount)
            let key = "key_abuse\(tag)"
            let ip = "198.18.\(cycle % 250).7"
            for _ in 0..<400 {
                let throttled = random.chance(0.3)
                events.append(event("api.request", within(2 * 60_000), actor: owner,
                                    entities: [("api_key", key), ("org", org(forUser: owner)), ("ip", ip)],
                                    data: [("endpoint", .text("/v1/users/\(random.below(userCount))")), ("status", .int(throttled ? 429 : 200))],
                                    truth: truth(["api_key:\(key)"])))
            }
        case .scamMessages:
            let lures = ["Congratulations! You won a $1000 gift card. Claim now at http://prize-claim.example/win",
                         "Double your crypto in 24h, send BTC to our wallet and get 2x back guaranteed",
                         "Your account will be closed, verify your bank details at http://secure-verify.example/login"]
            for index in 0..<8 {
                let account = "scam\(tag)_\(index)"
                let ip = "100.64.\(cycle % 250).\(10 + index)"
                for _ in 0..<10 {
                    events.append(event("message.sent", within(20 * 60_000), actorID: account,
                                        entities: [("ip", ip), ("device", "scamdev-\(tag)-\(index)")],
                                        data: [("text", .text(random.pick(lures))), ("recipient", .text(user(random.below(userCount))))],
                                        truth: truth(["user:\(account)"])))
                }
            }
        }
        return events
    }

    // MARK: - Encoding

    private enum Value {
        case text(String)
        case int(Int64)
        case amount(Double)
        case flag(Bool)
    }

    private mutating func event(
        _ type: String, _ time: Int64, actor: Int, entities: [(String, String)], data: [(String, Value)], truth: [TruthRecord] = []
    ) -> SimulatedEvent {
        event(type, time, actorID: user(actor), entities: entities, data: data, truth: truth)
    }

    private mutating func event(
        _ type: String, _ time: Int64, actorID: String, entities: [(String, String)], data: [(String, Value)], truth: [TruthRecord] = []
    ) -> SimulatedEvent {
        serial += 1
        let id = "sim-\(runID)-\(serial)"
        var writer = JSONWriter(capacity: 320)
        writer.beginObject()
        writer.field("id", id)
        writer.field("type", type)
        writer.field("occurred_at", Timestamp.formatRFC3339(time))
        writer.key("actor")
        writer.beginObject()
        writer.field("type", "user")
        writer.field("id", actorID)
        writer.endObject()
        writer.key("entities")
        writer.beginObject()
        for (entityType, entityID) in entities { writer.field(entityType, entityID) }
        writer.endObject()
        writer.key("data")
        writer.beginObject()
        for (name, value) in data {
            writer.key(name)
            switch value {
            case .text(let text): writer.string(text)
            case .int(let number): writer.number(number)
            case .amount(let amount): writer.number(amount)
            case .flag(let flag): writer.bool(flag)
            }
        }
        writer.endObject()
        writer.endObject()
        var records = truth
        for index in records.indices { records[index].eventID = id }
        return SimulatedEvent(id: id, occurredAt: time, json: writer.bytes, truth: records)
    }

    private mutating func report(_ time: Int64, reporter: String, subject: String, reason: String, text: String, truth: [TruthRecord]) -> SimulatedEvent {
        event(ReservedEventType.report, time, actorID: reporter, entities: [("user", subject)],
              data: [("reason", .text(reason)), ("subject", .text("user:\(subject)")), ("text", .text(text))], truth: truth)
    }
}
