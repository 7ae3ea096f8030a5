public import WardenCore

/// Where notifications go (`oncall.yaml`, `channels:`): the delivery settings (URL, secret) are the
/// engine's; the domain needs only the name and the payload shape.
public struct NotificationChannel: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Warden's signed envelope (`id`, `topic`, `created_at`, `data`), like enforcement webhooks.
        case webhook
        /// A chat incoming webhook: `{"text": …}` (Slack, Mattermost, Rocket.Chat, Google Chat).
        case chat
        /// PagerDuty Events API v2 (`routing_key`, `event_action`, `dedup_key`, `payload`).
        case pagerduty
    }
    public var name: String
    public var kind: Kind
    /// PagerDuty's integration key (for `pagerduty`).
    public var routingKey: String?

    public init(name: String, kind: Kind, routingKey: String? = nil) {
        self.name = name
        self.kind = kind
        self.routingKey = routingKey
    }
}

/// Something to tell people: a page or an incident update, shaped per channel by ``delivery(to:at:)``.
public struct Notice: Sendable, Equatable {
    /// PagerDuty's event actions.
    public enum Action: String, Sendable { case trigger, acknowledge, resolve }
    /// `page`, `incident.update` …
    public var topic: String
    /// What it is about (`incident:4`, `alert:9`): the dedup key of every notice about it.
    public var subject: String
    /// One line (PagerDuty allows 1,024 characters; longer summaries are cut).
    public var summary: String
    /// More text, for chat.
    public var text: String
    /// `critical`, `error`, `warning` or `info`.
    public var severity: String
    public var action: Action
    /// Who is being reached (pages), if anyone.
    public var person: String?
    /// Makes the delivery's idempotency key unique per notice (the page step, the update's number).
    public var key: String
    /// Extra fields for machines (PagerDuty's `custom_details`, the webhook's `data`).
    public var details: [(String, String)]

    public init(topic: String, subject: String, summary: String, text: String, severity: String, action: Action = .trigger,
                person: String? = nil, key: String, details: [(String, String)] = []) {
        self.topic = topic
        self.subject = subject
        self.summary = summary
        self.text = text
        self.severity = severity
        self.action = action
        self.person = person
        self.key = key
        self.details = details
    }

    public static func == (lhs: Notice, rhs: Notice) -> Bool {
        lhs.topic == rhs.topic && lhs.subject == rhs.subject && lhs.summary == rhs.summary && lhs.text == rhs.text && lhs.severity == rhs.severity
            && lhs.action == rhs.action && lhs.person == rhs.person && lhs.key == rhs.key
            && lhs.details.map { $0.0 + "\u{1}" + $0.1 } == rhs.details.map { $0.0 + "\u{1}" + $0.1 }
    }

    /// The delivery for `channel`: the body in the channel's shape, keyed so it is queued once.
    /// Notices about one subject go out in order on each channel.
    public func delivery(to channel: NotificationChannel, at now: Int64) -> OutboxMessage {
        let idempotencyKey = "\(topic):\(subject):\(key):\(channel.name)"
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        switch channel.kind {
        case .webhook:
            writer.field("id", idempotencyKey)
            writer.field("topic", topic)
            writer.field("created_at", Timestamp.formatRFC3339(now))
            writer.key("data")
            writer.beginObject()
            writer.field("subject", subject)
            writer.field("summary", summary)
            writer.field("text", text)
            writer.field("severity", severity)
            writer.field("action", action.rawValue)
            if let person { writer.field("person", person) }
            for (name, value) in details { writer.field(name, value) }
            writer.endObject()
        case .chat:
            var line = person.map { "@\($0) " } ?? ""
            line += "*\(summary)*"
            if !text.isEmpty { line += "\n" + text }
            writer.field("text", line)
        case .pagerduty:
            writer.field("routing_key", channel.routingKey ?? "")
            writer.field("event_action", action.rawValue)
            // PagerDuty groups every event with one dedup key into one alert (255 characters at most).
            writer.field("dedup_key", String("warden:\(subject)".prefix(255)))
            if action == .trigger {
                writer.key("payload")
                writer.beginObject()
                writer.field("summary", String(summary.prefix(1024)))
                writer.field("source", "warden")
                writer.field("severity", ["critical", "error", "warning", "info"].contains(severity) ? severity : "error")
                writer.field("timestamp", Timestamp.formatRFC3339(now))
                writer.field("component", subject.split(separator: ":").first.map(String.init) ?? subject)
                writer.field("class", topic)
                writer.key("custom_details")
                writer.beginObject()
                if let person { writer.field("person", person) }
                if !text.isEmpty { writer.field("text", text) }
                for (name, value) in details { writer.field(name, value) }
                writer.endObject()
                writer.endObject()
                writer.field("client", "Warden")
            }
        }
        writer.endObject()
        return OutboxMessage(topic: topic, idempotencyKey: idempotencyKey, orderingKey: "\(channel.name):\(subject)",
                             body: String(decoding: writer.bytes, as: UTF8.self), at: now, destination: channel.name)
    }
}

/// A JSON object written by `members` (timeline and audit details).
func jsonObject(_ members: (inout JSONWriter) -> Void) -> String {
    JSONWriter.object(members)
}
