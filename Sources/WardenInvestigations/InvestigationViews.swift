/// The views the SQL console reads: documented, stable names and columns over the live store, so a
/// saved query keeps working when the tables underneath change. The store defines them (each store
/// in its own SQL) and is tested to define exactly these; `docs/investigations.md` lists them.
public struct InvestigationView: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public let name: String
        /// `integer`, `real`, `text` or `json` (JSON text, read with `->>` or `json_extract`).
        public let type: String
        public let about: String

        public init(_ name: String, _ type: String, _ about: String) {
            self.name = name
            self.type = type
            self.about = about
        }
    }

    public let name: String
    public let about: String
    public let columns: [Column]

    public init(_ name: String, _ about: String, _ columns: [Column]) {
        self.name = name
        self.about = about
        self.columns = columns
    }
}

public enum InvestigationViews {
    private typealias C = InvestigationView.Column

    /// Every view, in the order the docs and the console list them. Times are milliseconds since
    /// 1970 (UTC); `iso(ms)`, `hour(ms)`, `day(ms)` and `ago('24h')` help with them.
    public static let all: [InvestigationView] = [
        InvestigationView("events", "Every event in the log, with its data.", [
            C("seq", "integer", "position in the log (dense, increasing)"),
            C("id", "text", "the producer's event id"),
            C("type", "text", "event type, such as signup or message"),
            C("occurred_at", "integer", "when it happened, by the producer"),
            C("received_at", "integer", "when Warden acknowledged it"),
            C("actor", "text", "the acting entity, such as user:123"),
            C("entities", "json", "the entities it names, by role"),
            C("data", "json", "the event's data"),
        ]),
        InvestigationView("entities", "Every entity the log names (users, IPs, devices, cards, e-mails, domains, content…).", [
            C("entity", "text", "type:id, such as ip:203.0.113.9"),
            C("type", "text", "entity type"),
            C("id", "text", "the id within its type"),
            C("first_seen_at", "integer", "received time of the first event naming it"),
            C("first_seq", "integer", "the first event naming it"),
        ]),
        InvestigationView("mentions", "Which events name which entities (join events on seq; filter by type and id to use the index).", [
            C("entity", "text", "type:id"),
            C("type", "text", "entity type"),
            C("id", "text", "the id within its type"),
            C("seq", "integer", "the event"),
        ]),
        InvestigationView("links", "Entities named by the same event, each pair both ways (a → b and b → a), so WHERE a = … finds every link of a.", [
            C("a", "text", "type:id"),
            C("b", "text", "type:id"),
            C("first_seq", "integer", "the first event naming both"),
        ]),
        InvestigationView("labels", "Labels on entities, from rules, decisions and people.", [
            C("entity", "text", "type:id"),
            C("name", "text", "the label"),
            C("source", "text", "who or what set it"),
            C("created_at", "integer", "when it was set"),
            C("expires_at", "integer", "when it lapses (null: never)"),
        ]),
        InvestigationView("signals", "What rules and classifiers raised.", [
            C("id", "integer", "signal id"),
            C("event_seq", "integer", "the event that raised it (null for signals about cases)"),
            C("case_id", "integer", "the case it is about (SLA signals)"),
            C("rule", "text", "rule name"),
            C("rule_version", "text", "rule version"),
            C("category", "text", "taxonomy category"),
            C("severity", "text", "low, medium, high or critical"),
            C("subject", "text", "type:id of the subject"),
            C("reason", "text", "the rule's reason"),
            C("queue", "text", "review queue it routes to"),
            C("verdict", "text", "allow, challenge or block"),
            C("occurred_at", "integer", "the event's time"),
            C("created_at", "integer", "when detection raised it"),
        ]),
        InvestigationView("cases", "Review cases and appeals.", [
            C("id", "integer", "case id"),
            C("kind", "text", "review or appeal"),
            C("subject", "text", "type:id"),
            C("source", "text", "signal, report or appeal"),
            C("queue", "text", "queue"),
            C("state", "text", "open, in_review, on_hold, escalated, resolved, appealed or closed"),
            C("category", "text", "taxonomy category"),
            C("severity", "text", "severity"),
            C("score", "integer", "priority score 0–100"),
            C("band", "integer", "priority band 1–4"),
            C("signals", "integer", "signals joined"),
            C("reports", "integer", "reports joined"),
            C("assignee", "text", "who holds it"),
            C("created_at", "integer", "opened"),
            C("first_action_at", "integer", "first reviewer action"),
            C("resolved_at", "integer", "decided"),
            C("due_at", "integer", "SLA due time"),
            C("appeal_of", "integer", "the case an appeal is about"),
        ]),
        InvestigationView("decisions", "Reviewers' decisions.", [
            C("id", "integer", "decision id"),
            C("case_id", "integer", "the case"),
            C("decided_by", "text", "actor, such as user:ana"),
            C("at", "integer", "when"),
            C("category", "text", "category decided"),
            C("violation", "integer", "1 when a violation"),
            C("policy", "text", "policy cited"),
            C("rationale", "text", "the reviewer's rationale"),
            C("macro", "text", "macro used"),
            C("appeal_outcome", "text", "upheld or overturned (appeals)"),
        ]),
        InvestigationView("actions", "Enforcement actions taken by decisions, and their reversals.", [
            C("id", "integer", "action id"),
            C("decision_id", "integer", "the decision"),
            C("case_id", "integer", "the case"),
            C("subject", "text", "type:id acted on"),
            C("action", "text", "action name"),
            C("duration", "integer", "milliseconds, for timed actions"),
            C("created_at", "integer", "when"),
            C("reverses", "integer", "the action this one reverses"),
            C("reversed_at", "integer", "when it was reversed"),
            C("reversed_by", "text", "who reversed it"),
        ]),
        InvestigationView("reports", "User reports (report events), with the case they joined.", [
            C("seq", "integer", "the report's event"),
            C("id", "text", "report id"),
            C("received_at", "integer", "when Warden acknowledged it"),
            C("reporter", "text", "type:id of the reporter"),
            C("subject", "text", "type:id reported"),
            C("reason", "text", "the report's reason"),
            C("text", "text", "the reporter's words"),
            C("case_id", "integer", "the case it joined"),
        ]),
        InvestigationView("statements", "Statements of reasons (DSA Article 17), as exported.", [
            C("decision_id", "integer", "the decision"),
            C("created_at", "integer", "when"),
            C("body", "json", "the statement, in the Transparency Database's fields"),
        ]),
    ]

    public static let names: Set<String> = Set(all.map(\.name))

    public static func view(named name: String) -> InvestigationView? { all.first { $0.name == name } }
}
