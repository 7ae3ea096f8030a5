import WardenCore

/// The abuse campaigns the simulator can inject, each with the ground truth of who took part.
public enum Campaign: String, CaseIterable, Sendable, Codable {
    /// Many sign-ups from a few IPs and devices within minutes.
    case signupFarm = "signup_farm"
    /// Fresh accounts sending the same link to many recipients.
    case linkSpam = "link_spam"
    /// Many accounts abusing one target, who reports them.
    case harassmentPileOn = "harassment_pile_on"
    /// Many small payment attempts with many cards, mostly declined.
    case cardTesting = "card_testing"
    /// One API key bursting far above its normal rate, scraping.
    case apiAbuse = "api_abuse"
    /// Prize and investment scams sent to many users.
    case scamMessages = "scam_messages"

    /// The taxonomy category the campaign belongs to.
    public var category: String {
        switch self {
        case .signupFarm: "spam.fake_accounts"
        case .linkSpam: "spam.links"
        case .harassmentPileOn: "harassment.bullying"
        case .cardTesting: "fraud.card_testing"
        case .apiAbuse: "platform_abuse.api"
        case .scamMessages: "fraud.scam"
        }
    }

    /// When the campaign starts, as a fraction of one simulation cycle.
    var startFraction: Double {
        switch self {
        case .signupFarm: 0.10
        case .linkSpam: 0.25
        case .harassmentPileOn: 0.40
        case .cardTesting: 0.55
        case .apiAbuse: 0.70
        case .scamMessages: 0.85
        }
    }
}

/// One line of the ground-truth side file: either a campaign (who took part) or an event that
/// belongs to a campaign.
public struct TruthRecord: Sendable, Equatable {
    /// `campaign` or `event`.
    public var kind: String
    /// The campaign.
    public var campaign: Campaign
    /// The cycle the campaign instance belongs to (0 for the first).
    public var cycle: Int
    /// For `event` records, the event id.
    public var eventID: String?
    /// The entities acting for the campaign (the ones a detector should flag).
    public var subjects: [String]
    /// For `campaign` records, when it started (ms since the epoch).
    public var startedAt: Int64?

    /// The record as one JSON line.
    public var json: String {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.field("kind", kind)
        writer.field("campaign", campaign.rawValue)
        writer.field("category", campaign.category)
        writer.field("cycle", Int64(cycle))
        if let eventID { writer.field("event_id", eventID) }
        if let startedAt {
            writer.field("started_at", Timestamp.formatRFC3339(startedAt))
        }
        writer.key("subjects")
        writer.beginArray()
        for subject in subjects { writer.string(subject) }
        writer.endArray()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
